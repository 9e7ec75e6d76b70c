/* SPDX-License-Identifier: GPL-2.0-or-later */
/* basic/hashmap.c against a plain array as the model: random puts, gets and removes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/hashmap.h"

#define N 5000

static void test_basic(void **state) {
        Hashmap *h = hashmap_new();
        int a, b;

        assert_non_null(h);
        assert_null(hashmap_get(h, "x"));
        assert_false(hashmap_contains(h, "x"));
        assert_null(hashmap_remove(h, "x"));
        assert_int_equal(hashmap_put(h, "web", &a), 0);
        assert_int_equal(hashmap_put(h, "web", &b), -EEXIST);
        assert_ptr_equal(hashmap_get(h, "web"), &a);
        assert_int_equal(hashmap_put(h, "", &b), 0);
        assert_ptr_equal(hashmap_get(h, ""), &b);
        assert_int_equal(hashmap_size(h), 2);
        assert_ptr_equal(hashmap_remove(h, "web"), &a);
        assert_null(hashmap_get(h, "web"));
        assert_int_equal(hashmap_size(h), 1);
        assert_int_equal(hashmap_put(h, "web", &b), 0);
        assert_ptr_equal(hashmap_get(h, "web"), &b);
        hashmap_free(h);
        assert_null(hashmap_get(NULL, "x"));
        assert_int_equal(hashmap_size(NULL), 0);
}

static void test_against_model(void **state) {
        static char keys[N][16];
        static bool present[N];
        Hashmap *h = hashmap_new();
        size_t n = 0;

        assert_non_null(h);
        srand(42);
        for (size_t i = 0; i < N; i++)
                snprintf(keys[i], sizeof(keys[i]), "unit%zu@%zu", i % 97, i);
        /* Many rounds of puts and removes: tombstones pile up and the table rehashes. */
        for (int round = 0; round < 200000; round++) {
                size_t k = (size_t) rand() % N;
                if (rand() % 3) {
                        int r = hashmap_put(h, keys[k], keys[k]);
                        assert_int_equal(r, present[k] ? -EEXIST : 0);
                        n += !present[k];
                        present[k] = true;
                } else {
                        void *v = hashmap_remove(h, keys[k]);
                        assert_ptr_equal(v, present[k] ? keys[k] : NULL);
                        n -= present[k];
                        present[k] = false;
                }
                assert_int_equal(hashmap_size(h), n);
        }
        for (size_t k = 0; k < N; k++)
                assert_ptr_equal(hashmap_get(h, keys[k]), present[k] ? keys[k] : NULL);
        hashmap_free(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic),
                cmocka_unit_test(test_against_model),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
