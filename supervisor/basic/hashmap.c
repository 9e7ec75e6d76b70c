/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hashmap.h"

/* A slot is empty (key NULL, not deleted), in use, or a tombstone (key NULL, deleted): lookups
 * probe past tombstones, inserts reuse them. The table grows at 3/4 of live + dead slots. */
typedef struct Slot {
        const char *key;
        void *value;
        uint64_t hash;
        bool deleted;
} Slot;

struct Hashmap {
        Slot *slots;
        size_t n_slots; /* a power of two, or 0 */
        size_t n_used;  /* live entries */
        size_t n_dead;  /* tombstones */
        uint64_t seed;
};

Hashmap *hashmap_new(void) {
        Hashmap *h = calloc(1, sizeof(Hashmap));

        if (!h)
                return NULL;
        /* A weak seed still works; it only gives up the protection against chosen collisions. */
        if (getrandom(&h->seed, sizeof(h->seed), GRND_NONBLOCK) != (ssize_t) sizeof(h->seed))
                h->seed = (uint64_t) (uintptr_t) h ^ UINT64_C(0x9e3779b97f4a7c15);
        return h;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (h) {
                free(h->slots);
                free(h);
        }
        return NULL;
}

/* FNV-1a over the seed's bytes and the key, then a final avalanche (splitmix64's) so that the
 * low bits we index with depend on every byte. */
static uint64_t hash_key(const Hashmap *h, const char *key) {
        uint64_t x = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < sizeof(h->seed); i++) {
                x ^= (h->seed >> (8 * i)) & 0xff;
                x *= UINT64_C(0x100000001b3);
        }
        for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
                x ^= *p;
                x *= UINT64_C(0x100000001b3);
        }
        x ^= x >> 30;
        x *= UINT64_C(0xbf58476d1ce4e5b9);
        x ^= x >> 27;
        x *= UINT64_C(0x94d049bb133111eb);
        x ^= x >> 31;
        return x;
}

static Slot *find(const Hashmap *h, const char *key, uint64_t hash) {
        if (h->n_slots == 0)
                return NULL;
        for (size_t i = hash & (h->n_slots - 1), n = 0; n < h->n_slots; i = (i + 1) & (h->n_slots - 1), n++) {
                Slot *s = &h->slots[i];
                if (!s->key && !s->deleted)
                        return NULL;
                if (s->key && s->hash == hash && strcmp(s->key, key) == 0)
                        return s;
        }
        return NULL;
}

static int resize(Hashmap *h, size_t n_slots) {
        Slot *old = h->slots;
        size_t n_old = h->n_slots;

        h->slots = calloc(n_slots, sizeof(Slot));
        if (!h->slots) {
                h->slots = old;
                return -ENOMEM;
        }
        h->n_slots = n_slots;
        h->n_dead = 0;
        for (size_t i = 0; i < n_old; i++) {
                size_t j;
                if (!old[i].key)
                        continue;
                for (j = old[i].hash & (n_slots - 1); h->slots[j].key; j = (j + 1) & (n_slots - 1))
                        ;
                h->slots[j] = old[i];
        }
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        uint64_t hash = hash_key(h, key);
        size_t i;

        if (find(h, key, hash))
                return -EEXIST;
        if ((h->n_used + h->n_dead + 1) * 4 > h->n_slots * 3) {
                size_t n = h->n_slots ? h->n_slots : 16;
                while ((h->n_used + 1) * 4 > n * 3 / 2)
                        n *= 2;
                if (resize(h, n) < 0)
                        return -ENOMEM;
        }
        for (i = hash & (h->n_slots - 1); h->slots[i].key; i = (i + 1) & (h->n_slots - 1))
                ;
        if (h->slots[i].deleted)
                h->n_dead--;
        h->slots[i] = (Slot){ .key = key, .value = value, .hash = hash };
        h->n_used++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        Slot *s = h ? find(h, key, hash_key(h, key)) : NULL;
        return s ? s->value : NULL;
}

bool hashmap_contains(const Hashmap *h, const char *key) {
        return h && find(h, key, hash_key(h, key));
}

void *hashmap_remove(Hashmap *h, const char *key) {
        Slot *s = h ? find(h, key, hash_key(h, key)) : NULL;
        void *v;

        if (!s)
                return NULL;
        v = s->value;
        *s = (Slot){ .deleted = true };
        h->n_used--;
        h->n_dead++;
        return v;
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n_used : 0;
}
