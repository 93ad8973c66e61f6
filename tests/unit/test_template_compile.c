#include "tap.h"
void test_template_compile(void);
void test_template_compile(void) {}
