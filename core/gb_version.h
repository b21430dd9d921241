/*
 * gb_version: the --version text every gerbang program prints: its own
 * version and the versions of the libraries it runs with (read at run time
 * from the libraries, not from the headers it was built with).
 * Lives in its own small library, libgbversion, which links every
 * dependency; only programs link it, so core/ itself stays lean.
 */
#ifndef GB_VERSION_H
#define GB_VERSION_H

#include <stdio.h>

/* The gerbang version, "0.1.0". */
const char *gb_version(void);

/* Print "prog 0.1.0" and one line per library to fp. */
void	gb_version_print(FILE *fp, const char *prog);

#endif /* GB_VERSION_H */
