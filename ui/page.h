/*
 * ui/page.h - janusd's live page, the answer to GET / on the HTTP port.
 *
 * Owns: handing out ui/index.html, which the build turns into a C string
 * (Makefile.am: ui/page_html.inc), so the page is part of the binary and
 * no file is read at run time. Must not change the page: what it shows is
 * ui/index.html's business, what it reads is GET /stats (shm/stats.h).
 */
#ifndef JANUSD_UI_PAGE_H
#define JANUSD_UI_PAGE_H

#include <stddef.h>

#define PAGE_TYPE "text/html; charset=utf-8"

/* page_html - the page's bytes (NUL-terminated, no NUL inside) and, in *len, their number. */
const char *page_html(size_t *len);

#endif
