#include <errno.h>
#include <stddef.h>

#include "alloc_fail.h"

char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static unsigned int countdown;

void
alloc_fail_at(unsigned int n)
{
    countdown = n;
}

static int
should_fail(void)
{
    if (countdown == 0) {
        return 0;
    }
    countdown--;
    if (countdown == 0) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

char *
__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
    return should_fail() ? NULL : __real_strndup(s, n);
}
