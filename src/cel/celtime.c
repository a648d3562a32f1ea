/*
 * cel/celtime.c -- timestamps (RFC 3339, 0001-01-01 to 9999-12-31 UTC)
 * and durations (Go syntax "1h2m3.5s", +-2^63 ns, as cel-go):
 * parsing, formatting, range-checked construction and the get*()
 * accessors with an optional fixed-offset time zone.
 *
 * Pure arithmetic on (seconds, nanos); civil dates use Howard Hinnant's
 * days_from_civil algorithm (proleptic Gregorian), so no libc time
 * functions and no time zone database are involved.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "cel/internal.h"

#define NANOS 1000000000LL

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
	size_t i;
	*out = 0;
	if (at + count > n)
		return -1;
	for (i = at; i < at + count; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int D[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return D[m - 1];
}

int gs_cel__ts_parse(const char *s, size_t n, int64_t *sec, int32_t *nanos)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, frac = 0, k = 0;
	size_t i = 19;
	int64_t off = 0;
	if (n < 20 || digits(s, n, 0, 4, &y) || s[4] != '-' || digits(s, n, 5, 2, &mo) || s[7] != '-' ||
	    digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s, n, 11, 2, &h) || s[13] != ':' ||
	    digits(s, n, 14, 2, &mi) || s[16] != ':' || digits(s, n, 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
		return -1;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
			if (k < 9)
				frac = frac * 10 + (s[i] - '0');
		if (k == 0)
			return -1;
		for (; k < 9; k++)
			frac *= 10;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || digits(s, n, i + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		off = (s[i] == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
		i += 6;
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	*sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
	*nanos = frac;
	return 0;
}

int gs_cel__dur_parse(const char *s, size_t n, int64_t *sec, int32_t *nanos)
{
	static const struct {
		const char *u;
		int64_t ns;
	} U[] = {{"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000}, {"ms", 1000000},
		 {"s", NANOS}, {"m", 60 * NANOS}, {"h", 3600 * NANOS}};
	__int128 total = 0, whole, frac, scale;
	size_t i = 0, k, ul;
	int neg = 0, found, fd;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	if (n - i == 1 && s[i] == '0') {
		*sec = 0;
		*nanos = 0;
		return 0;
	}
	while (i < n) {
		whole = 0, frac = 0, scale = 1, fd = 0;
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.')
			return -1;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
			whole = whole * 10 + (s[i] - '0');
			if (whole > (__int128)1 << 80)
				return -1;
		}
		if (i < n && s[i] == '.') {
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
				if (scale < (__int128)1000000000000000000LL) {
					frac = frac * 10 + (s[i] - '0');
					scale *= 10;
				}
			}
		}
		if (fd == 0)
			return -1;
		for (k = 0, found = 0; k < sizeof(U) / sizeof(U[0]) && !found; k++) {
			ul = strlen(U[k].u);
			/* "m" must not swallow the "m" of "ms" */
			if (i + ul <= n && !memcmp(s + i, U[k].u, ul) &&
			    !(ul == 1 && U[k].u[0] == 'm' && i + 1 < n && s[i + 1] == 's')) {
				total += whole * U[k].ns + frac * U[k].ns / scale;
				i += ul;
				found = 1;
			}
		}
		if (!found || total > (__int128)INT64_MAX * 2)
			return -1;
	}
	if (neg)
		total = -total;
	*sec = (int64_t)(total / NANOS);
	*nanos = (int32_t)(total % NANOS);
	return 0;
}

static size_t fmt_frac(int32_t nanos, char *out, size_t n)
{
	int len;
	if (nanos == 0 || n < 12)
		return 0;
	len = snprintf(out, n, ".%09d", nanos < 0 ? -nanos : nanos);
	while (len > 1 && out[len - 1] == '0')
		out[--len] = 0;
	return (size_t)len;
}

void gs_cel__ts_format(int64_t sec, int32_t nanos, char *out, size_t n)
{
	int64_t days = floor_div(sec, 86400), rem = sec - days * 86400, y;
	unsigned m, d;
	char frac[16] = "";
	civil_from_days(days, &y, &m, &d);
	fmt_frac(nanos, frac, sizeof(frac));
	snprintf(out, n, "%04lld-%02u-%02uT%02d:%02d:%02d%sZ", (long long)y, m, d, (int)(rem / 3600),
		 (int)(rem / 60 % 60), (int)(rem % 60), frac);
}

void gs_cel__dur_format(int64_t sec, int32_t nanos, char *out, size_t n)
{
	char frac[16] = "";
	fmt_frac(nanos, frac, sizeof(frac));
	snprintf(out, n, "%s%lld%ss", (sec < 0 || nanos < 0) ? "-" : "", (long long)(sec < 0 ? -sec : sec), frac);
}

int gs_cel__ts_make(gs_cel_ctx *c, int64_t sec, int64_t nanos, gs_cel_value *out)
{
	sec += floor_div(nanos, NANOS);
	nanos -= floor_div(nanos, NANOS) * NANOS;
	if (sec < GS_CEL_TS_MIN || sec > GS_CEL_TS_MAX)
		return gs_cel__fail(c, "timestamp out of range");
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_TIMESTAMP;
	out->v.i = sec;
	out->nanos = (int32_t)nanos;
	return 0;
}

int gs_cel__dur_make(gs_cel_ctx *c, int64_t sec, int64_t nanos, gs_cel_value *out)
{
	sec += nanos / NANOS;
	nanos %= NANOS;
	if (sec > 0 && nanos < 0) {
		sec--;
		nanos += NANOS;
	} else if (sec < 0 && nanos > 0) {
		sec++;
		nanos -= NANOS;
	}
	/* the total must fit int64 nanoseconds (about 292 years), as in
	 * cel-go, whose durations are Go time.Durations */
	if ((__int128)sec * NANOS + nanos > INT64_MAX || (__int128)sec * NANOS + nanos < INT64_MIN)
		return gs_cel__fail(c, "duration out of range");
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_DURATION;
	out->v.i = sec;
	out->nanos = (int32_t)nanos;
	return 0;
}

/* "UTC", "Z", or a fixed offset [+-]HH:MM (no sign means +). Named zones
 * would need the tz database: not supported (docs/cel.md). */
static int parse_tz(const char *s, size_t n, int64_t *off)
{
	int h, m, sign = 1;
	size_t i = 0;
	if ((n == 3 && !memcmp(s, "UTC", 3)) || (n == 1 && s[0] == 'Z') || (n == 3 && !memcmp(s, "GMT", 3))) {
		*off = 0;
		return 0;
	}
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		sign = s[0] == '-' ? -1 : 1;
		i = 1;
	}
	if (n != i + 5 || digits(s, n, i, 2, &h) || s[i + 2] != ':' || digits(s, n, i + 3, 2, &m) || h > 23 || m > 59)
		return -1;
	*off = sign * (int64_t)(h * 3600 + m * 60);
	return 0;
}

static int duration_field(gs_cel_ctx *c, int fn, const gs_cel_value *v, int64_t *r)
{
	switch (fn) {
	case GS_CEL_FN_GET_HOURS: *r = v->v.i / 3600; return 0;
	case GS_CEL_FN_GET_MINUTES: *r = v->v.i / 60; return 0;
	case GS_CEL_FN_GET_SECONDS: *r = v->v.i; return 0;
	case GS_CEL_FN_GET_MILLISECONDS: *r = v->nanos / 1000000; return 0;
	default: return gs_cel__no_overload(c, gs_cel__fn_name(fn), v, NULL);
	}
}

int gs_cel__time_field(gs_cel_ctx *c, int fn, const gs_cel_value *v, const gs_cel_value *tz, gs_cel_value *out)
{
	int64_t off = 0, local, days, rem, y, r = 0;
	unsigned m, d;
	if (v->kind == GS_CEL_DURATION && !tz) {
		if (duration_field(c, fn, v, &r) < 0)
			return -1;
	} else if (v->kind == GS_CEL_TIMESTAMP) {
		if (tz && (tz->kind != GS_CEL_STRING || parse_tz(tz->v.s.p, tz->v.s.n, &off) < 0))
			return tz->kind != GS_CEL_STRING
				       ? gs_cel__no_overload(c, gs_cel__fn_name(fn), v, tz)
				       : gs_cel__fail(c, "unsupported time zone '%.*s' (use UTC or [+-]HH:MM)",
						      (int)(tz->v.s.n > 60 ? 60 : tz->v.s.n), tz->v.s.p);
		local = v->v.i + off;
		days = floor_div(local, 86400);
		rem = local - days * 86400;
		civil_from_days(days, &y, &m, &d);
		switch (fn) {
		case GS_CEL_FN_GET_FULL_YEAR: r = y; break;
		case GS_CEL_FN_GET_MONTH: r = m - 1; break;
		case GS_CEL_FN_GET_DATE: r = d; break;
		case GS_CEL_FN_GET_DAY_OF_MONTH: r = d - 1; break;
		case GS_CEL_FN_GET_DAY_OF_YEAR: r = days - days_from_civil(y, 1, 1); break;
		case GS_CEL_FN_GET_DAY_OF_WEEK: r = (days % 7 + 11) % 7; break; /* 1970-01-01 was a Thursday */
		case GS_CEL_FN_GET_HOURS: r = rem / 3600; break;
		case GS_CEL_FN_GET_MINUTES: r = rem / 60 % 60; break;
		case GS_CEL_FN_GET_SECONDS: r = rem % 60; break;
		case GS_CEL_FN_GET_MILLISECONDS: r = v->nanos / 1000000; break;
		default: return gs_cel__no_overload(c, gs_cel__fn_name(fn), v, NULL);
		}
	} else {
		return gs_cel__no_overload(c, gs_cel__fn_name(fn), v, tz);
	}
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_INT;
	out->v.i = r;
	return 0;
}
