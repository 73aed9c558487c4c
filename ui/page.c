/*
 * ui/page.c - janusd's live page as one string in the binary.
 *
 * Owns: the page's bytes, included from ui/page_html.inc, which the build
 * makes from ui/index.html (one string literal per line). Must not be
 * edited to change the page: edit ui/index.html.
 */
#include "config.h"

#include "ui/page.h"

static const char page[] =
#include "ui/page_html.inc"
    ;

const char *
page_html(size_t *len)
{
	*len = sizeof(page) - 1;
	return page;
}
