/* tests/unit/cel/test_celeval.c -- every operator and standard function,
 * error propagation and absorption, JSON bindings and results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "celtest.h"

static void test_celeval__arithmetic(void **state)
{
	(void)state;
	EXPECT("40 + 2", T_INT("42"));
	EXPECT("-7 / 2", T_INT("-3"));
	EXPECT("-7 % 2", T_INT("-1"));
	EXPECT("5u * 3u - 1u", T_UINT("14"));
	EXPECT("7u / 2u", T_UINT("3"));
	EXPECT("7u % 4u", T_UINT("3"));
	EXPECT("1.5 * 2.0", "{\"doubleValue\":3.0}");
	EXPECT("1.0 / 0.0", "{\"doubleValue\":\"Infinity\"}");
	EXPECT("-(0.0/0.0) != -(0.0/0.0)", T_TRUE);
	EXPECT("-9223372036854775808", T_INT("-9223372036854775808"));
	EXPECT("--5", T_INT("5"));
	EXPECT("2 + 3 * 4 - 6 / 2", T_INT("11"));
	EXPECT("(2 + 3) * 4", T_INT("20"));
}

static void test_celeval__overflow_and_division(void **state)
{
	(void)state;
	EXPECT_ERROR("9223372036854775807 + 1", NULL, "integer overflow");
	EXPECT_ERROR("-9223372036854775808 - 1", NULL, "integer overflow");
	EXPECT_ERROR("-(-9223372036854775808)", NULL, "integer overflow");
	EXPECT_ERROR("-9223372036854775808 / -1", NULL, "integer overflow");
	EXPECT_ERROR("-9223372036854775808 % -1", NULL, "integer overflow");
	EXPECT_ERROR("5000000000 * 5000000000", NULL, "integer overflow");
	EXPECT_ERROR("0u - 1u", NULL, "integer overflow");
	EXPECT_ERROR("18446744073709551615u + 1u", NULL, "integer overflow");
	EXPECT_ERROR("1 / 0", NULL, "division by zero");
	EXPECT_ERROR("1 % 0", NULL, "modulus by zero");
	EXPECT_ERROR("1u / 0u", NULL, "division by zero");
	/* no implicit conversions */
	EXPECT_ERROR("1 + 1u", NULL, "no matching overload for '_+_' applied to (int, uint)");
	EXPECT_ERROR("1 + 1.0", NULL, "no matching overload");
	EXPECT_ERROR("1.5 % 1.0", NULL, "no matching overload");
	EXPECT_ERROR("-(1u)", NULL, "no matching overload");
	EXPECT_ERROR("!1", NULL, "no matching overload");
	EXPECT_PARSE_ERROR("9223372036854775808", "1:1: integer literal out of range");
	EXPECT_PARSE_ERROR("18446744073709551616u", "1:1: integer literal out of range");
}

static void test_celeval__equality_and_ordering(void **state)
{
	(void)state;
	EXPECT("1 == 1u && 1u == 1.0 && 1.0 == 1", T_TRUE);
	EXPECT("[1, 2.0] == [1u, 2]", T_TRUE);
	EXPECT("{1: 'a'} == {1u: 'a'}", T_TRUE);
	EXPECT("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", T_TRUE);
	EXPECT("'a' == 1", T_FALSE);
	EXPECT("null == null && dyn(1) != null", T_TRUE);
	EXPECT("0.0/0.0 == 0.0/0.0", T_FALSE);
	EXPECT("-1 < 0u && 1u < 2.5 && 2.5 > 2", T_TRUE);
	EXPECT("9223372036854775807 < 9223372036854775808u", T_TRUE);
	EXPECT("'abc' < 'abd' && 'a' < '\\u00e1' && b'\\x00' < b'\\x01'", T_TRUE);
	EXPECT("false < true && !(true < true)", T_TRUE);
	EXPECT("1.0 < 0.0/0.0 || 1.0 >= 0.0/0.0", T_FALSE);
	EXPECT_ERROR("'a' < 1", NULL, "no matching overload for '_<_' applied to (string, int)");
	EXPECT_ERROR("[1] < [2]", NULL, "no matching overload");
	EXPECT_ERROR("null < null", NULL, "no matching overload");
}

static void test_celeval__strings_and_bytes(void **state)
{
	(void)state;
	EXPECT("'he' + 'llo'", T_STR("hello"));
	EXPECT("size('πέντε') == 5 && size(b'\\xff\\x00') == 2 && 'abc'.size() == 3", T_TRUE);
	EXPECT("'foobar'.startsWith('foo') && 'foobar'.endsWith('bar') && 'foobar'.contains('oba')", T_TRUE);
	EXPECT("''.contains('') && !''.contains('a') && !'ab'.endsWith('abc')", T_TRUE);
	EXPECT("'hubba'.matches('ubb') && !'hubba'.matches('^ubb') && matches('abc', 'b.$')", T_TRUE);
	EXPECT("'mañana'.matches('a+ñ+a+') && 'x1'.matches('\\\\d') && !'\\u0663'.matches('\\\\d')", T_TRUE);
	EXPECT("'a\\n'.matches('a$')", T_FALSE); /* RE2: $ is end of text only */
	EXPECT("b'abc' + b'\\xff'", "{\"bytesValue\":\"YWJj/w==\"}");
	EXPECT("'MiXeD'.lowerAscii() + 'x'.upperAscii() + '  t '.trim()", T_STR("mixedXt"));
	EXPECT_PARSE_ERROR("'a'.matches('(a)\\\\1')", "1:13: invalid regular expression: backreferences are not supported");
	EXPECT_ERROR("'a'.matches(r)", "{\"r\": \"(?=a)\"}", "lookaround");
	EXPECT_ERROR("'a'.matches(r)", "{\"r\": \"a++\"}", "possessive");
	EXPECT_ERROR("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches(r)", "{\"r\": \"(a|a)+$\"}", "match limit exceeded");
	EXPECT_ERROR("'a'.matches(x)", "{\"x\":\"(\"}", "invalid regular expression");
	EXPECT_ERROR("1.contains('a')", NULL, "no matching overload");
	EXPECT_PARSE_ERROR("'a'.matches('[')", "1:13: invalid regular expression");
}

static void test_celeval__literals(void **state)
{
	(void)state;
	EXPECT("r'\\n' + '''a\nb''' + \"\\x41\\101\\u00e9\\U0001F431\"", T_STR("\\\\na\\nbAAé🐱"));
	EXPECT("b'\\377' == b'\\xff' && b'ÿ' == b'\\303\\277' && bytes('\\377') != b'\\377'", T_TRUE);
	EXPECT("0x10 == 16 && 0x10u == 16u && .5 == 0.5 && 1e3 == 1000.0", T_TRUE);
	EXPECT("[1, 'a', [true], {}, null][2]", "{\"listValue\":{\"values\":[{\"boolValue\":true}]}}");
	EXPECT("{'k': 1, 2: 'v', true: 3u}[2]", T_STR("v"));
	EXPECT("[1, 2, ]", "{\"listValue\":{\"values\":[{\"int64Value\":\"1\"},{\"int64Value\":\"2\"}]}}");
	EXPECT_ERROR("{1.5: 1}", NULL, "unsupported key type: double");
	EXPECT_ERROR("{1: 1, 1u: 2}", NULL, "repeated key");
	EXPECT_ERROR("Msg{a: 1}", NULL, "message construction is not supported: Msg");
}

static void test_celeval__lists_and_maps(void **state)
{
	(void)state;
	EXPECT("[1, 2] + [3]", "{\"listValue\":{\"values\":[{\"int64Value\":\"1\"},{\"int64Value\":\"2\"},{\"int64Value\":\"3\"}]}}");
	EXPECT("[7, 8][1u] == 8 && [7, 8][dyn(1.0)] == 8", T_TRUE);
	EXPECT("2 in [1, 2] && 2u in [1, 2] && !(3 in [1, 2]) && 'a' in {'a': 1} && 1.0 in {1u: 2}", T_TRUE);
	EXPECT("size([1, 2]) == 2 && size({'a': 1}) == 1 && [1].size() == 1", T_TRUE);
	EXPECT("{'a': {'b': 5}}.a.b", T_INT("5"));
	EXPECT("{'a.b': 1}.`a.b`", T_INT("1"));
	EXPECT("has({'a': 1}.a) && !has({'a': 1}.b)", T_TRUE);
	EXPECT_ERROR("[1, 2][2]", NULL, "index out of range: 2");
	EXPECT_ERROR("[1, 2][-1]", NULL, "index out of range");
	EXPECT_ERROR("[1, 2][0.5]", NULL, "not an integer");
	EXPECT_ERROR("[1][dyn('a')]", NULL, "no matching overload");
	EXPECT_ERROR("{'a': 1}['b']", NULL, "no such key: b");
	EXPECT_ERROR("{'a': 1}.b", NULL, "no such key: b");
	EXPECT_ERROR("{1: 1}[2]", NULL, "no such key: 2");
	EXPECT_ERROR("1.a", NULL, "does not support field selection");
	EXPECT_ERROR("has(1.a)", NULL, "invalid type for has()");
	EXPECT_ERROR("1 in 1", NULL, "no matching overload");
}

static void test_celeval__logic_and_absorption(void **state)
{
	(void)state;
	EXPECT("true ? 1 : 2", T_INT("1"));
	EXPECT("false ? 1 / 0 : 2", T_INT("2"));
	EXPECT("1 / 0 == 1 || true", T_TRUE);
	EXPECT("true || 1 / 0 == 1", T_TRUE);
	EXPECT("1 / 0 == 1 && false", T_FALSE);
	EXPECT("false && 1 / 0 == 1", T_FALSE);
	EXPECT("x.y || true", T_TRUE);                    /* unbound variable absorbed */
	EXPECT("nope(1) || true", T_TRUE);                /* unbound function absorbed */
	EXPECT("'s' && false", T_FALSE);                  /* wrong type absorbed */
	EXPECT("(1 / 0 == 1 || 2 / 0 == 1) || true", T_TRUE);
	EXPECT_ERROR("1 / 0 == 1 || false", NULL, "division by zero");
	EXPECT_ERROR("true && 1 / 0 == 1", NULL, "division by zero");
	/* the left error is kept when both sides fail */
	EXPECT_ERROR("1 / 0 == 1 || {}.a", NULL, "1:3: division by zero");
	EXPECT_ERROR("'a' || 'b'", NULL, "no matching overload");
	EXPECT_ERROR("1 ? 2 : 3", NULL, "no matching overload");
	EXPECT_ERROR("x", NULL, "undeclared reference to 'x'");
	EXPECT_ERROR("nope(1)", NULL, "unbound function: nope");
	EXPECT_ERROR("size(1, 2)", NULL, "no matching overload for 'size' with 2 arguments");
	EXPECT_ERROR("int(1).contains('a')", NULL, "no matching overload");
}

static void test_celeval__macros(void **state)
{
	(void)state;
	EXPECT("[1, 2, 3].all(x, x > 0) && [1, 2].exists(x, x == 2) && [1, 2].exists_one(x, x > 1)", T_TRUE);
	EXPECT("[1, 2, 3].map(x, x * 2)",
	       "{\"listValue\":{\"values\":[{\"int64Value\":\"2\"},{\"int64Value\":\"4\"},{\"int64Value\":\"6\"}]}}");
	EXPECT("[1, 2, 3, 4].map(x, x % 2 == 0, x * 10) == [20, 40]", T_TRUE);
	EXPECT("[1, 2, 3, 4].filter(x, x % 2 == 1) == [1, 3]", T_TRUE);
	EXPECT("{'a': 1, 'b': 2}.filter(k, k == 'b') == ['b'] && {'a': 1}.map(k, k + k) == ['aa']", T_TRUE);
	EXPECT("[5, 6].all(i, v, v == i + 5) && {'a': 1}.exists(k, v, k == 'a' && v == 1)", T_TRUE);
	EXPECT("[1, 2].existsOne(i, v, v == 2) && [3, 4].transformList(i, v, i * v) == [0, 4]", T_TRUE);
	EXPECT("{'a': 1}.transformMap(k, v, v + 1) == {'a': 2} && [9].transformMap(i, v, v) == {0: 9}", T_TRUE);
	EXPECT("[1, 2].transformList(i, v, i > 0, v) == [2]", T_TRUE);
	/* the variable shadows a binding of the same name; the range does not see it */
	EXPECT_JSON("[1, 2].map(x, x * 10) + [x]", "{\"x\": 7}", "[10,20,7]");
	EXPECT("[[1], [2, 3]].map(l, l.map(x, x + 1)) == [[2], [3, 4]]", T_TRUE);
	/* all/exists absorb an error when another element decides */
	EXPECT("[0, 1].all(x, 1 / x > 5)", T_FALSE);
	EXPECT("[0, 1].exists(x, 1 / x == 1)", T_TRUE);
	EXPECT_ERROR("[0, 1].all(x, 1 / x == 1)", NULL, "division by zero");
	EXPECT_ERROR("[0, 1].exists_one(x, 1 / x == 1)", NULL, "division by zero");
	EXPECT_ERROR("[0, 1].map(x, 1 / x)", NULL, "division by zero");
	EXPECT_ERROR("[1].all(x, x)", NULL, "predicate is int, not bool");
	EXPECT_ERROR("'abc'.all(x, true)", NULL, "all() cannot range over string");
	EXPECT_PARSE_ERROR("[1].all(1, true)", "1:9: argument must be a simple name");
	EXPECT_PARSE_ERROR("has(a)", "1:5: invalid argument to has() macro");
	EXPECT_PARSE_ERROR("[1].all(x, x, x)", "1:12: iteration variables must differ");
}

static void test_celeval__conversions(void **state)
{
	(void)state;
	EXPECT("int(42u) + int(-1.9) + int('12') + int(timestamp('1970-01-01T00:01:00Z'))", T_INT("113"));
	EXPECT("uint(1) + uint(2.9) + uint('3')", T_UINT("6"));
	EXPECT("double(1) + double(2u) + double('0.5')", "{\"doubleValue\":3.5}");
	EXPECT("string(1) + string(2u) + string(1.5) + string(b'x') + string(true)", T_STR("121.5xtrue"));
	EXPECT("string(123456789.0) + ' ' + string(0.0001) + ' ' + string(1e-5)", T_STR("1.23456789e+08 0.0001 1e-05"));
	EXPECT("bytes('ÿ') == b'\\303\\277' && bool('true') && !bool('0') && dyn(1) == 1", T_TRUE);
	EXPECT("type(1) == int && type(1u) == uint && type('') == string && type(null) == null_type", T_TRUE);
	EXPECT("type(type(1)) == type && type([]) == list && type({}) == map && type(b'') == bytes", T_TRUE);
	EXPECT("type(timestamp(0))", "{\"typeValue\":\"google.protobuf.Timestamp\"}");
	EXPECT("google.protobuf.Duration == type(duration('1s'))", T_TRUE);
	EXPECT_ERROR("int(9223372036854775807.0)", NULL, "int range error");
	EXPECT_ERROR("int(-9223372036854775808.0)", NULL, "int range error");
	EXPECT_ERROR("int(18446744073709551615u)", NULL, "int range error");
	EXPECT_ERROR("uint(-1)", NULL, "uint range error");
	EXPECT_ERROR("uint(1e20)", NULL, "uint range error");
	EXPECT_ERROR("int('1x')", NULL, "int conversion error");
	EXPECT_ERROR("int(' 1')", NULL, "int conversion error");
	EXPECT_ERROR("int('99999999999999999999')", NULL, "int conversion error");
	EXPECT_ERROR("uint('-1')", NULL, "uint conversion error");
	EXPECT_ERROR("double('x')", NULL, "double conversion error");
	EXPECT_ERROR("bool('TrUe')", NULL, "not a bool");
	EXPECT_ERROR("string(b'\\xff')", NULL, "invalid UTF-8");
	EXPECT_ERROR("dyn", NULL, "undeclared reference to 'dyn'");
}

static void test_celeval__timestamps_and_durations(void **state)
{
	(void)state;
	EXPECT("timestamp('2009-02-13T23:31:30Z')",
	       "{\"objectValue\":{\"@type\":\"type.googleapis.com/google.protobuf.Timestamp\",\"value\":\"2009-02-13T23:31:30Z\"}}");
	EXPECT("string(timestamp('2009-02-14T01:31:30.5+02:00'))", T_STR("2009-02-13T23:31:30.5Z"));
	EXPECT("string(duration('1h1m1.5s')) + ' ' + string(duration('-1.5s')) + ' ' + string(duration('1500ms'))",
	       T_STR("3661.5s -1.5s 1.5s"));
	EXPECT("timestamp('2009-02-13T23:31:30Z') + duration('30s') == timestamp('2009-02-13T23:32:00Z')", T_TRUE);
	EXPECT("timestamp('2009-02-13T23:31:30Z') - timestamp('2009-02-13T23:31:00Z') == duration('30s')", T_TRUE);
	EXPECT("duration('1s') - duration('2.5s') < duration('0') && duration('1m') > duration('59s')", T_TRUE);
	EXPECT_JSON("[timestamp('2009-02-13T23:31:30.123456Z')].map(t, [t.getFullYear(), t.getMonth(), t.getDate(),"
		    " t.getDayOfMonth(), t.getDayOfYear(), t.getDayOfWeek(), t.getHours(), t.getMinutes(), t.getSeconds(),"
		    " t.getMilliseconds()])[0]",
		    NULL, "[2009,1,13,12,43,5,23,31,30,123]");
	EXPECT("timestamp('1969-12-31T23:59:59Z').getDayOfWeek() == 3 && timestamp('2000-02-29T00:00:00Z').getDayOfYear() == 59",
	       T_TRUE);
	EXPECT("timestamp('2009-02-13T23:31:30Z').getHours('+02:00') == 1 && "
	       "timestamp('2009-02-13T02:00:00Z').getDayOfMonth('-02:30') == 11 && "
	       "timestamp('2009-02-13T23:31:30Z').getDayOfWeek('UTC') == 5",
	       T_TRUE);
	EXPECT("duration('3730s').getHours() == 1 && duration('3730s').getMinutes() == 62 && "
	       "duration('3730.25s').getSeconds() == 3730 && duration('1.25s').getMilliseconds() == 250",
	       T_TRUE);
	EXPECT_ERROR("timestamp('2009-02-13T23:31:30Z').getHours('Europe/Paris')", NULL, "unsupported time zone");
	EXPECT_ERROR("timestamp('0000-12-31T23:59:59Z')", NULL, "timestamp out of range");
	EXPECT_ERROR("timestamp('2009-02-30T00:00:00Z')", NULL, "invalid timestamp");
	EXPECT_ERROR("timestamp(253402300800)", NULL, "timestamp out of range");
	EXPECT_ERROR("timestamp('9999-12-31T23:59:59.999999999Z') + duration('1ns')", NULL, "timestamp out of range");
	EXPECT_ERROR("duration('1x')", NULL, "invalid duration");
	EXPECT_ERROR("duration('9300000000s')", NULL, "duration out of range");
	EXPECT_ERROR("timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')", NULL,
		     "duration out of range");
	EXPECT_ERROR("duration('1s').getDayOfWeek()", NULL, "no matching overload");
}

static void test_celeval__json_bindings(void **state)
{
	const char *obj = "{\"object\": {\"spec\": {\"title\": \"Mug\", \"price\": 12.5, \"tags\": [\"a\", \"b\"]},"
			  " \"metadata\": {\"labels\": {\"app\": \"shop\", \"tier\": \"gold\"}}}}";
	(void)state;
	EXPECT_JSON("has(object.spec.title) && object.spec.title.size() <= 80", obj, "true");
	EXPECT_JSON("object.spec.price >= 0 && object.spec.tags[1] == 'b' && 'a' in object.spec.tags", obj, "true");
	EXPECT_JSON("object.metadata.labels.all(k, k.startsWith('app'))", obj, "false");
	EXPECT_JSON("object.metadata.labels.filter(k, object.metadata.labels[k] == 'gold')", obj, "[\"tier\"]");
	EXPECT_JSON("object.spec", obj, "{\"title\":\"Mug\",\"price\":12.5,\"tags\":[\"a\",\"b\"]}");
	EXPECT_JSON("object.spec.tags + ['c']", obj, "[\"a\",\"b\",\"c\"]");
	EXPECT_JSON("object.metadata.labels == {'tier': 'gold', 'app': 'shop'}", obj, "true");
	EXPECT_JSON("{1: 2u, true: b'\\x01', 'd': duration('90s'), 't': int}", NULL,
		    "{\"1\":2,\"true\":\"AQ==\",\"d\":\"90s\",\"t\":\"int\"}");
	EXPECT_JSON("[18446744073709551615u, 0.0/0.0, -1.0/0.0]", NULL, "[1.8446744073709552e19,\"NaN\",\"-Infinity\"]");
	EXPECT_JSON("x + 1", "{\"x\": 1}", "2");
	EXPECT_JSON("x + 1.0", "{\"x\": 1.0}", "2.0");
	EXPECT_JSON("a.b.c", "{\"a.b.c\": 1, \"a.b\": {\"c\": 2}}", "1"); /* longest prefix wins */
	EXPECT_JSON("a.b.c", "{\"a.b\": {\"c\": 2}}", "2");
	EXPECT_JSON("(a.b).c", "{\"a.b.c\": 1, \"a.b\": {\"c\": 2}}", "2");
	EXPECT_JSON("true", "{\"true\": false}", "true"); /* reserved names never shadowed */
	EXPECT_ERROR("object.spec.sku", obj, "no such key: sku");
	EXPECT_ERROR("object.spec.title.x", obj, "type 'string' does not support field selection");
	/* typed bindings */
	CEL_CHECK("x + 1u", "{\"x\": {\"uint64Value\": \"41\"}}", GS_CEL_IN_TYPED | GS_CEL_OUT_TYPED, T_UINT("42"));
	CEL_CHECK("x[0] == b'ab' && y == timestamp(0) && z == duration('1.5s')",
		  "{\"x\": {\"listValue\": {\"values\": [{\"bytesValue\": \"YWI=\"}]}},"
		  " \"y\": {\"objectValue\": {\"@type\": \"type.googleapis.com/google.protobuf.Timestamp\", \"value\": \"1970-01-01T00:00:00Z\"}},"
		  " \"z\": {\"objectValue\": {\"@type\": \"type.googleapis.com/google.protobuf.Duration\", \"value\": \"1.500s\"}}}",
		  GS_CEL_IN_TYPED, "true");
	CEL_CHECK("x", "{\"x\": {\"int64Value\": \"1x\"}}", GS_CEL_IN_TYPED, "error: 0:0: binding 'x': invalid typed value: int64Value");
}

static void test_celeval__eval_bool(void **state)
{
	gs_cel_program *p = NULL;
	gs_cel_error e;
	const char *names[] = {"n"};
	json_t *v = json_integer(5);
	bool out = false;
	(void)state;
	assert_int_equal(gs_cel_compile("n > 3", 5, &p, &e), 0);
	assert_int_equal(gs_cel_eval_bool(p, names, &v, 1, &out, &e), 0);
	assert_true(out);
	gs_cel_program_free(p);
	assert_int_equal(gs_cel_compile("n + 1", 5, &p, &e), 0);
	assert_int_equal(gs_cel_eval_bool(p, names, &v, 1, &out, &e), GS_EINVALID);
	assert_string_equal(e.message, "result is int, not bool");
	gs_cel_program_free(p);
	assert_int_equal(gs_cel_compile("n / 0 > 1", 9, &p, &e), 0);
	assert_int_equal(gs_cel_eval_bool(p, names, &v, 1, &out, &e), GS_EINVALID);
	assert_string_equal(e.message, "division by zero");
	assert_int_equal(e.line, 1);
	assert_int_equal(e.column, 3);
	gs_cel_program_free(p);
	gs_cel_program_free(NULL);
	json_decref(v);
}

/* one program, two threads, different bindings */
typedef struct worker {
	const gs_cel_program *p;
	int64_t n;
	int bad;
} worker;

static void *worker_run(void *arg)
{
	worker *w = arg;
	const char *names[] = {"n"};
	json_t *v = json_integer(w->n), *res = NULL;
	gs_cel_error e;
	int i;
	for (i = 0; i < 20000; i++) {
		if (gs_cel_eval_json(w->p, names, &v, 1, &res, &e) < 0 || json_integer_value(res) != w->n * 6)
			w->bad++;
		json_decref(res);
	}
	json_decref(v);
	return NULL;
}

static void test_celeval__concurrent(void **state)
{
	gs_cel_program *p = NULL;
	gs_cel_error e;
	worker w[2] = {{NULL, 3, 0}, {NULL, 7, 0}};
	pthread_t t[2];
	int i;
	(void)state;
	assert_int_equal(gs_cel_compile("[1, 2, 3].map(x, x * n).filter(y, y > 0)[0] * 6 / 1", 48, &p, &e), 0);
	for (i = 0; i < 2; i++) {
		w[i].p = p;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(w[0].bad, 0);
	assert_int_equal(w[1].bad, 0);
	gs_cel_program_free(p);
}

static void test_celeval__container(void **state)
{
	gs_cel_program *p = NULL;
	gs_cel_error e;
	gs_cel_options o = {"a.b"};
	const char *names[] = {"a.x", "x", "a.b.y"};
	json_t *vals[3] = {json_integer(1), json_integer(2), json_integer(3)}, *res = NULL;
	(void)state;
	assert_int_equal(gs_cel_compile_opts("[x, .x, y]", 10, &o, &p, &e), 0);
	assert_int_equal(gs_cel_eval_json(p, names, vals, 3, &res, &e), 0);
	char *text = json_dumps(res, JSON_COMPACT);
	assert_string_equal(text, "[1,2,3]");
	free(text);
	json_decref(res);
	gs_cel_program_free(p);
	for (int i = 0; i < 3; i++)
		json_decref(vals[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_celeval__arithmetic),
		cmocka_unit_test(test_celeval__overflow_and_division),
		cmocka_unit_test(test_celeval__equality_and_ordering),
		cmocka_unit_test(test_celeval__strings_and_bytes),
		cmocka_unit_test(test_celeval__literals),
		cmocka_unit_test(test_celeval__lists_and_maps),
		cmocka_unit_test(test_celeval__logic_and_absorption),
		cmocka_unit_test(test_celeval__macros),
		cmocka_unit_test(test_celeval__conversions),
		cmocka_unit_test(test_celeval__timestamps_and_durations),
		cmocka_unit_test(test_celeval__json_bindings),
		cmocka_unit_test(test_celeval__eval_bool),
		cmocka_unit_test(test_celeval__concurrent),
		cmocka_unit_test(test_celeval__container),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
