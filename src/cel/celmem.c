/*
 * cel/celmem.c -- the two allocators of the CEL engine: a bump arena per
 * evaluation (first 2 KiB inline in the context, so a typical policy
 * evaluation never calls malloc) and the program's compile-time storage.
 *
 * Owns: arena chunks (freed together by gs_cel__arena_release) and the
 * program chunks (freed by gs_cel_program_free). Invariant: the arena
 * never hands out more than GS_CEL_MAX_EVAL_BYTES in total.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/alloc.h"

struct gs_cel_chunk {
	gs_cel_chunk *next;
	size_t cap;
	char data[] __attribute__((aligned(16)));
};

struct gs_cel_pchunk {
	struct gs_cel_pchunk *next;
	char data[] __attribute__((aligned(16)));
};

#define ARENA_CHUNK (64 * 1024)

void gs_cel__arena_init(gs_cel_arena *a)
{
	a->cur = a->first;
	a->left = sizeof(a->first);
	a->used = 0;
	a->chunks = NULL;
}

void gs_cel__arena_release(gs_cel_arena *a)
{
	gs_cel_chunk *c = a->chunks, *next;
	while (c) {
		next = c->next;
		free(c);
		c = next;
	}
	gs_cel__arena_init(a);
}

void *gs_cel__arena_alloc(gs_cel_arena *a, size_t n)
{
	gs_cel_chunk *c;
	size_t cap;
	void *p;
	n = (n + 15) & ~(size_t)15;
	if (n > GS_CEL_MAX_EVAL_BYTES || a->used + n > GS_CEL_MAX_EVAL_BYTES)
		return NULL;
	if (n > a->left) {
		/* a big request gets its own chunk; the current one stays in use */
		cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->next = a->chunks;
		a->chunks = c;
		if (cap == n) {
			a->used += n;
			return c->data;
		}
		a->cur = c->data;
		a->left = cap;
	}
	p = a->cur;
	a->cur += n;
	a->left -= n;
	a->used += n;
	return p;
}

void *gs_cel__palloc(gs_cel_program *p, size_t n)
{
	struct gs_cel_pchunk *c = gs_xcalloc(1, sizeof(*c) + n);
	c->next = p->mem;
	p->mem = c;
	return c->data;
}

char *gs_cel__pstrndup(gs_cel_program *p, const char *s, size_t n)
{
	char *d = gs_cel__palloc(p, n + 1);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

void gs_cel_program_free(gs_cel_program *p)
{
	struct gs_cel_pchunk *c, *next;
	size_t i;
	if (!p)
		return;
	for (i = 0; i < p->nregexes; i++)
		gs_cel__re_free(p->regexes[i]);
	free(p->regexes);
	free(p->slots);
	for (c = p->mem; c; c = next) {
		next = c->next;
		free(c);
	}
	free(p->src);
	free(p);
}
