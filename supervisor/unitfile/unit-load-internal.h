/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared between unit-file.c (files, syntax, inih) and unit-settings.c (the key table); not part
 * of the manager's contract. */

#include "basic/macro.h"
#include "specifier.h"
#include "unit-settings.h"

#define UNIT_ITEMS_MAX 128         /* bits in UnitSettings.set_mask */
#define UNIT_DIAGNOSTICS_MAX 100   /* per kind; a hostile file must not make us store millions */
#define UNIT_ASSIGNMENTS_MAX 10000 /* lines per unit, main file and drop-ins together */
#define UNIT_FILE_SIZE_MAX (4U * 1024 * 1024)
#define UNIT_DROPINS_MAX 256
/* Input quoted in a message is shortened to this many bytes: enough to find the line, too little to
 * copy a secret out of a file that should never have been read (a password hash, a key). */
#define UNIT_TOKEN_MAX 40

typedef struct UnitLoadState {
        UnitFile *unit;
        SpecifierContext spec;
        const char *unit_dir;      /* absolute directory of the main file, for relative paths */
        const char *path;          /* the file being parsed (owned by unit) */
        char *const *allowed_dirs; /* a symlinked file must resolve below one of these */
        const char *root;          /* --root, for absolute symlink targets; NULL or "" for "/" */
        unsigned n_assignments;    /* over all files of the unit, bounded by UNIT_ASSIGNMENTS_MAX */
        /* Where each table entry was last assigned, so validation can point at the line. */
        const char *item_path[UNIT_ITEMS_MAX];
        unsigned item_line[UNIT_ITEMS_MAX];
} UnitLoadState;

typedef enum UnitSectionClass {
        UNIT_SECTION_KNOWN,        /* Unit, Container, Service, Install, Deploy (or X-Deploy) */
        UNIT_SECTION_IGNORED,      /* X-*: ignored silently, as systemd does */
        UNIT_SECTION_IGNORED_WARN, /* Quadlet: meaningful elsewhere, ignored with a warning */
        UNIT_SECTION_UNKNOWN,
} UnitSectionClass;

/* Returns the class; for known sections *ret_canonical is the canonical name ("Deploy" for
 * "X-Deploy"). */
UnitSectionClass unit_section_classify(const char *name, const char **ret_canonical);

/* Adds an error or warning; only fails with -ENOMEM. Past UNIT_DIAGNOSTICS_MAX one final
 * "too many" entry is kept and the rest dropped. */
int unit_file_diag(UnitFile *u, bool error, const char *path, unsigned line, const char *fmt, ...) _printf_(5, 6);

/* Copies s into buf for quoting in a message, shortened with "…" past UNIT_TOKEN_MAX bytes and
 * with control characters replaced, so that a 1 MB line never becomes a 1 MB message. */
const char *unit_token(const char *s, char buf[static UNIT_TOKEN_MAX + 4]);

/* Applies one "Key=Value" of a known section (canonical name). Problems become diagnostics;
 * returns only 0 or -ENOMEM. */
int unit_settings_assign(UnitLoadState *st, const char *section, const char *key, const char *value, unsigned line);

/* Whether a unit "name" ("db", "tmpl@inst") has a file in the directories the unit is loaded from
 * (for an instance, its template's file counts too). Returns 1, 0, or -ENOMEM. */
int unit_load_state_unit_exists(const UnitLoadState *st, const char *name);

/* Cross-key checks after every file is applied. Returns 0 or -ENOMEM. */
int unit_settings_validate(UnitLoadState *st);
