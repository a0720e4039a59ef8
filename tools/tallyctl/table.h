/*
 * table.h: aligned text tables for tallyctl's default output. Columns are
 * as wide as their widest cell; numeric columns align right so counts line
 * up by their last digit.
 */
#ifndef TALLYCTL_TABLE_H
#define TALLYCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

struct table {
    size_t ncols;
    const char *head[TABLE_MAX_COLS];
    bool right[TABLE_MAX_COLS]; /* align right (numbers) */
    char **cells;               /* nrows * ncols copies, owned by the table */
    size_t nrows, cap;
    int rc; /* first error (-ENOMEM), reported by table_print */
};

/* heads: ncols column titles; a title starting with '>' aligns right (the '>'
 * is not printed). */
void table_init(struct table *t, size_t ncols, const char *const *heads);
/* Append one row of ncols cells (NULL prints as "-"), each escaped for the
 * terminal (fmt_safe). Returns 0 or -ENOMEM. */
int table_row_add(struct table *t, const char *const *cells);
/* Print the header and rows, two spaces between columns, no trailing blanks.
 * Returns 0 or the first error met while building. */
int table_print(const struct table *t, FILE *out);
void table_free(struct table *t);
/* --no-headers: tables print without their header line, and the commands
 * leave out their summary lines, so each line is one row. On by default. */
void table_headers_set(bool on);
bool table_headers(void);

#endif
