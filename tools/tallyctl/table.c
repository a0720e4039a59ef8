/*
 * table.c: build rows of strings, then print them aligned. Cells are copied
 * so callers can format into stack buffers and move on; the copy is escaped
 * (fmt_safe), because cells hold what peers and DNS told us and a pod name
 * carrying "\e[2J" must not clear the operator's terminal.
 */
#include "tools/tallyctl/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tallyctl/fmt.h"

/* --no-headers: set once by main for the whole run. */
static bool g_headers = true;

void table_headers_set(bool on)
{
    g_headers = on;
}

bool table_headers(void)
{
    return g_headers;
}

void table_init(struct table *t, size_t ncols, const char *const *heads)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        t->right[c] = heads[c][0] == '>';
        t->head[c] = heads[c] + (t->right[c] ? 1 : 0);
    }
}

int table_row_add(struct table *t, const char *const *cells)
{
    if (t->rc)
        return t->rc;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));
        if (!grown)
            return t->rc = -ENOMEM;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = fmt_safe_dup(cells[c] ? cells[c] : "-");
        if (!row[c]) {
            while (c-- > 0)
                free(row[c]);
            return t->rc = -ENOMEM;
        }
    }
    t->nrows++;
    return 0;
}

static void table_line_print(const struct table *t, const size_t *width, const char *const *cells,
                             FILE *out)
{
    /* Empty cells at the end of a line (a TOTAL row) print nothing at all. */
    size_t ncols = t->ncols;
    while (ncols > 1 && !cells[ncols - 1][0])
        ncols--;
    for (size_t c = 0; c < ncols; c++) {
        /* Pad by characters, not bytes, so UTF-8 names line up. */
        size_t pad = width[c] - fmt_width(cells[c]);
        bool last = c + 1 == ncols;
        if (c)
            fputs("  ", out);
        if (t->right[c])
            fprintf(out, "%*s", (int)pad, "");
        fputs(cells[c], out);
        if (!t->right[c] && !last) /* no trailing blanks */
            fprintf(out, "%*s", (int)pad, "");
    }
    fputc('\n', out);
}

int table_print(const struct table *t, FILE *out)
{
    size_t width[TABLE_MAX_COLS];
    if (t->rc)
        return t->rc;
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = g_headers ? strlen(t->head[c]) : 0;
        for (size_t r = 0; r < t->nrows; r++) {
            size_t n = fmt_width(t->cells[r * t->ncols + c]);
            if (n > width[c])
                width[c] = n;
        }
    }
    if (g_headers)
        table_line_print(t, width, t->head, out);
    for (size_t r = 0; r < t->nrows; r++)
        table_line_print(t, width, (const char *const *)(t->cells + r * t->ncols), out);
    return 0;
}

void table_free(struct table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}
