#include "tap.h"
void test_template_io(void);
void test_template_io(void) {}
