/*
 * t/page_html.c - unit test for ui/page.c: the page in the binary is
 * ui/index.html byte for byte (the build's sed rule loses nothing) and it
 * is self-contained: no script, style, font or image from anywhere, and
 * nothing read but /stats.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t/tap.h"
#include "ui/page.h"

/* count - occurrences of needle in the page. */
static unsigned
count(const char *page, const char *needle)
{
	unsigned n = 0;
	const char *p;

	for (p = page; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

int
main(void)
{
	static char file[1 << 20];
	char path[4096];
	const char *page, *dir = getenv("srcdir");
	size_t len, n;
	FILE *f;

	tap_plan(6);
	snprintf(path, sizeof(path), "%s/ui/index.html", dir != NULL ? dir : ".");
	f = fopen(path, "rb");
	if (f == NULL)
		tap_bail("cannot open %s", path);
	n = fread(file, 1, sizeof(file), f);
	fclose(f);
	page = page_html(&len);
	tap_ok(len == n && memcmp(page, file, n) == 0, "page_html is %s byte for byte (%zu bytes, file %zu)",
	    path, len, n);
	tap_ok(strlen(page) == len, "no NUL inside it");
	tap_ok(strncmp(page, "<!DOCTYPE html>\n", 16) == 0 && strstr(page, "</html>\n") != NULL,
	    "one HTML document");
	tap_is_int(count(page, "src=") + count(page, "@import") + count(page, "url(") + count(page, "://") +
	    count(page, "<iframe") + count(page, "<img"), 0,
	    "it loads nothing: no src=, @import, url(, address with a scheme, frame or image");
	tap_is_int(count(page, "href="), count(page, "href=\"data:,\""),
	    "its one link is the empty icon (no request for /favicon.ico)");
	tap_ok(count(page, "fetch(") == 1 && count(page, "fetch('stats'") == 1 &&
	    count(page, "XMLHttpRequest") + count(page, "WebSocket(") + count(page, "EventSource") == 0,
	    "what it reads is stats, next to it");
	return tap_done();
}
