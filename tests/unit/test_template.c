#include "tap.h"
void test_template_io(void);
void test_template_compile(void);
int main(void){test_template_io();test_template_compile();ok(1,"placeholder");return tap_done();}
