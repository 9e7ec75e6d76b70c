/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* systemd-style specifiers in unit file values: %n %N %p %i %I %j %H %m %%, and the fixed values of
 * a root system manager: %h %u %U %g %G %t %E %S %C %L %T %V. */

typedef struct SpecifierContext {
        const char *unit_name;  /* "web", "tmpl@", "tmpl@inst" (no ".container") */
        const char *instance;   /* %i: the instance or replica index; NULL or "" for none */
        const char *hostname;   /* %H; NULL: gethostname() */
        const char *machine_id; /* %m; NULL: /etc/machine-id */
} SpecifierContext;

/* Expands every specifier in text into a new string. An unknown specifier (or a lone '%' at the
 * end) fails with -EBADMSG and its letter in *ret_bad ('\0' for a trailing '%'); an unresolvable
 * one (%H, %m without a source) fails with -ENXIO and its letter in *ret_bad. */
int specifier_expand(const char *text, const SpecifierContext *c, char **ret, char *ret_bad);

/* systemd's unit_name_unescape() of an instance for %I: "\xNN" decoded, '-' becomes '/'. */
int specifier_unescape_instance(const char *instance, char **ret);
