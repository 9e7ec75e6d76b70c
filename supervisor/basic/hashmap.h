/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A map from strings to pointers: open addressing with linear probing, a per-map random seed
 * (unit names come from files and clients: no input may pick our collisions). Keys are borrowed,
 * not copied: a key must stay valid and unchanged while its entry is in the map (the usual key is
 * the name field of the value itself). Nothing here logs. */

#include <stdbool.h>
#include <stddef.h>

typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(void);
/* Frees the map, not the keys or values. Returns NULL. */
Hashmap *hashmap_free(Hashmap *h);
static inline void hashmap_freep(Hashmap **h) {
        hashmap_free(*h);
}
/* -EEXIST if key is in the map already (its value is left alone), -ENOMEM. */
int hashmap_put(Hashmap *h, const char *key, void *value);
void *hashmap_get(const Hashmap *h, const char *key);
bool hashmap_contains(const Hashmap *h, const char *key);
/* The value that was stored under key, or NULL. */
void *hashmap_remove(Hashmap *h, const char *key);
size_t hashmap_size(const Hashmap *h);
