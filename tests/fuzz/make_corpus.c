/* Writes every unit-test vector (tests/unit/support/pr_vectors.c) as a seed file into argv[1]. */
#include <stdio.h>

#include "pr_vectors.h"

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; dr_tv_all[i] != NULL; i++) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", argv[1], dr_tv_all[i]->name);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(dr_tv_all[i]->data, 1, dr_tv_all[i]->len, f) != dr_tv_all[i]->len) {
            perror(path);
            return 1;
        }
        if (fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}
