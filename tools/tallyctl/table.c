/*
 * table.c: build rows of strings, then print them aligned. Cells are copied
 * so callers can format into stack buffers and move on.
 */
#include "tools/tallyctl/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, size_t ncols, const char *const *heads)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        t->right[c] = heads[c][0] == '>';
        t->head[c] = heads[c] + (t->right[c] ? 1 : 0);
    }
}

static char *table_strdup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
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
        row[c] = table_strdup(cells[c] ? cells[c] : "-");
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
    for (size_t c = 0; c < t->ncols; c++) {
        int w = (int)width[c];
        bool last = c + 1 == t->ncols;
        if (c)
            fputs("  ", out);
        if (t->right[c])
            fprintf(out, "%*s", w, cells[c]);
        else if (last)
            fputs(cells[c], out); /* no trailing blanks */
        else
            fprintf(out, "%-*s", w, cells[c]);
    }
    fputc('\n', out);
}

int table_print(const struct table *t, FILE *out)
{
    size_t width[TABLE_MAX_COLS];
    if (t->rc)
        return t->rc;
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = strlen(t->head[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > width[c])
                width[c] = n;
        }
    }
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
