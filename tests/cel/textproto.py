"""Schema-less parser for the protocol-buffer text format.

Standard library only (the project's checks run under Debian's
/usr/bin/python3 without the protobuf package).  It covers the text format
as written by hand in the CEL conformance files and as specified in
https://protobuf.dev/reference/protobuf/textformat-spec/ :

  * messages delimited by ``{ }`` or ``< >``; the ``:`` before a message
    value is optional, before a scalar value it is required;
  * repeated fields, both as repeated ``name: value`` entries and in list
    form ``name: [v1, v2]``;
  * string literals in single or double quotes with every C-style escape
    (``\\a \\b \\f \\n \\r \\t \\v \\\\ \\' \\" \\?``, octal ``\\NNN``,
    ``\\xHH``, ``\\uHHHH``, ``\\UHHHHHHHH``) and adjacent-literal
    concatenation; strings are kept as raw bytes, because the same literal
    is UTF-8 text in a ``string`` field and raw octets in a ``bytes`` field;
  * decimal, octal and hex integers, floats (``1.``, ``.5``, ``1e3``,
    ``1.5f``), a ``-`` sign before numbers and ``inf``/``nan`` identifiers;
  * enum and other identifiers (``NULL_VALUE``, ``true``);
  * ``#`` comments, ``,``/``;`` field separators;
  * extension names ``[pkg.ext]`` and Any expansions
    ``[type.googleapis.com/pkg.Msg] { ... }``.

Without a schema the parser cannot know field types, so scalars keep their
lexical kind (string / int / float / identifier) and the caller converts
them (``Scalar.as_int()``, ``as_float()``, ``as_bool()``, ``as_text()``, ...).
Anything that is not valid text format raises ``TextProtoError`` with the
file, line and column; ``parse()`` always consumes the whole input.
"""

import math

__all__ = ["TextProtoError", "Message", "Scalar", "parse", "parse_file",
           "unescape"]


class TextProtoError(Exception):
    def __init__(self, msg, line=None, col=None, source=None):
        self.msg = msg
        self.line = line
        self.col = col
        self.source = source
        where = source or "<text>"
        if line is not None:
            where += ":%d:%d" % (line, col)
        super().__init__("%s: %s" % (where, msg))


class Scalar:
    """A scalar field value.

    kind is one of "string" (value: bytes), "int" (value: int, sign
    applied), "float" (value: float, sign applied) or "ident" (value: str,
    e.g. an enum name, true/false, inf/nan; ``negative`` is set for "-inf").
    """
    __slots__ = ("kind", "value", "negative", "line", "col")

    def __init__(self, kind, value, negative=False, line=None, col=None):
        self.kind = kind
        self.value = value
        self.negative = negative
        self.line = line
        self.col = col

    def __repr__(self):
        if self.kind == "ident" and self.negative:
            return "Scalar(ident, -%s)" % self.value
        return "Scalar(%s, %r)" % (self.kind, self.value)

    def __eq__(self, other):
        return (isinstance(other, Scalar) and self.kind == other.kind
                and self.negative == other.negative
                and (self.value == other.value
                     or (self.kind == "float" and math.isnan(self.value)
                         and math.isnan(other.value))))

    def __hash__(self):
        return hash((self.kind, self.negative))

    def _err(self, what):
        return TextProtoError("expected %s, found %r" % (what, self),
                              self.line, self.col)

    def as_bytes(self):
        if self.kind != "string":
            raise self._err("a string")
        return self.value

    def as_text(self):
        """String field value: the bytes must be valid UTF-8."""
        data = self.as_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TextProtoError("string field is not valid UTF-8: %s" % e,
                                 self.line, self.col)

    def as_int(self):
        if self.kind != "int":
            raise self._err("an integer")
        return self.value

    def as_float(self):
        """Float/double field value: ints, floats, inf/infinity/nan."""
        if self.kind == "int":
            return float(self.value) if self.value != 0 or not self.negative \
                else -0.0
        if self.kind == "float":
            return self.value
        if self.kind == "ident":
            low = self.value.lower()
            if low in ("inf", "infinity"):
                return -math.inf if self.negative else math.inf
            if low == "nan":
                return math.nan
        raise self._err("a floating-point value")

    def as_bool(self):
        if self.kind == "ident" and not self.negative:
            if self.value in ("true", "True", "t"):
                return True
            if self.value in ("false", "False", "f"):
                return False
        if self.kind == "int" and not self.negative and self.value in (0, 1):
            return bool(self.value)
        raise self._err("a bool")

    def as_enum(self):
        """Enum field value: an identifier (str) or a number (int)."""
        if self.kind == "ident" and not self.negative:
            return self.value
        if self.kind == "int":
            return self.value
        raise self._err("an enum value")


class Message:
    """An ordered list of (name, value) fields.

    name is the field name, "[pkg.ext]" for an extension, or
    "[domain/pkg.Type]" for an Any expansion; value is a Scalar or a
    Message.  A repeated field is simply several entries with one name.
    """
    __slots__ = ("fields", "line", "col")

    def __init__(self, fields=None, line=None, col=None):
        self.fields = fields if fields is not None else []
        self.line = line
        self.col = col

    def __repr__(self):
        return "Message(%r)" % (self.fields,)

    def __eq__(self, other):
        return isinstance(other, Message) and self.fields == other.fields

    def __hash__(self):
        return hash(len(self.fields))

    def names(self):
        seen = []
        for n, _ in self.fields:
            if n not in seen:
                seen.append(n)
        return seen

    def has(self, name):
        return any(n == name for n, _ in self.fields)

    def getall(self, name):
        return [v for n, v in self.fields if n == name]

    def get(self, name, default=None):
        """Last value of the field (text format: last one wins)."""
        vals = self.getall(name)
        return vals[-1] if vals else default

    def message(self, name):
        """The field as a message; an absent field is an empty message."""
        v = self.get(name)
        if v is None:
            return Message()
        if not isinstance(v, Message):
            raise TextProtoError("field %r: expected a message" % name,
                                 v.line, v.col)
        return v

    def scalar(self, name):
        v = self.get(name)
        if v is not None and not isinstance(v, Scalar):
            raise TextProtoError("field %r: expected a scalar" % name,
                                 v.line, v.col)
        return v

    def text(self, name, default=""):
        v = self.scalar(name)
        return default if v is None else v.as_text()

    def flag(self, name):
        v = self.scalar(name)
        return False if v is None else v.as_bool()


# ---------------------------------------------------------------------------
# lexer

_WS = " \t\n\r\v\f"
_IDSTART = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_IDCHARS = _IDSTART + "0123456789"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"
_OCT = "01234567"
_PUNCT = "{}<>[]:,;/-."
_SIMPLE_ESC = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11,
               "\\": 92, "'": 39, '"': 34, "?": 63}


def unescape(body, line=None, col=None, source=None):
    """Decode the inside of a text-format string literal to bytes."""
    out = bytearray()
    i = 0
    n = len(body)

    def err(msg):
        return TextProtoError(msg, line, col, source)

    while i < n:
        c = body[i]
        if c != "\\":
            if c == "\n":
                raise err("newline in string literal")
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= n:
            raise err("string literal ends in a backslash")
        c = body[i]
        if c in _SIMPLE_ESC:
            out.append(_SIMPLE_ESC[c])
            i += 1
        elif c in _OCT:
            j = i
            while j < n and j < i + 3 and body[j] in _OCT:
                j += 1
            v = int(body[i:j], 8)
            if v > 255:
                raise err("octal escape \\%s out of range" % body[i:j])
            out.append(v)
            i = j
        elif c in "xX":
            j = i + 1
            while j < n and j < i + 3 and body[j] in _HEX:
                j += 1
            if j == i + 1:
                raise err("\\x escape without hex digits")
            out.append(int(body[i + 1:j], 16))
            i = j
        elif c in "uU":
            width = 4 if c == "u" else 8
            digits = body[i + 1:i + 1 + width]
            if len(digits) != width or any(d not in _HEX for d in digits):
                raise err("\\%s escape needs %d hex digits" % (c, width))
            cp = int(digits, 16)
            i += 1 + width
            if 0xD800 <= cp <= 0xDBFF:
                # a high surrogate must be followed by an escaped low one
                low = body[i:i + 6]
                if (len(low) == 6 and low[:2] == "\\u"
                        and all(d in _HEX for d in low[2:])
                        and 0xDC00 <= int(low[2:], 16) <= 0xDFFF):
                    cp = 0x10000 + ((cp - 0xD800) << 10) + \
                        (int(low[2:], 16) - 0xDC00)
                    i += 6
                else:
                    raise err("unpaired surrogate \\u%04x" % cp)
            elif 0xDC00 <= cp <= 0xDFFF:
                raise err("unpaired surrogate \\u%04x" % cp)
            if cp > 0x10FFFF:
                raise err("\\U escape beyond U+10FFFF")
            out += chr(cp).encode("utf-8")
        else:
            raise err("unknown escape \\%s" % c)
    return bytes(out)


class _Tok:
    __slots__ = ("kind", "text", "value", "line", "col")

    def __init__(self, kind, text, value, line, col):
        self.kind = kind      # ident int float string punct eof
        self.text = text
        self.value = value
        self.line = line
        self.col = col

    def __repr__(self):
        return "%s(%r)@%d:%d" % (self.kind, self.text, self.line, self.col)


def _tokenize(src, source=None):
    toks = []
    i = 0
    n = len(src)
    line = 1
    linestart = 0

    def err(msg, at=None):
        at = i if at is None else at
        return TextProtoError(msg, line, at - linestart + 1, source)

    while True:
        # whitespace and comments
        while i < n:
            c = src[i]
            if c == "\n":
                line += 1
                i += 1
                linestart = i
            elif c in _WS:
                i += 1
            elif c == "#":
                while i < n and src[i] != "\n":
                    i += 1
            else:
                break
        if i >= n:
            toks.append(_Tok("eof", "", None, line, i - linestart + 1))
            return toks
        start = i
        col = i - linestart + 1
        c = src[i]
        if c in _IDSTART:
            while i < n and src[i] in _IDCHARS:
                i += 1
            toks.append(_Tok("ident", src[start:i], src[start:i], line, col))
        elif c in _DIGITS or (c == "." and i + 1 < n and src[i + 1] in _DIGITS):
            kind, value, i = _lex_number(src, i, err)
            toks.append(_Tok(kind, src[start:i], value, line, col))
        elif c in "'\"":
            q = c
            i += 1
            while i < n and src[i] != q:
                if src[i] == "\n":
                    raise err("newline in string literal")
                if src[i] == "\\":
                    i += 1
                    if i < n and src[i] == "\n":
                        raise err("newline in string literal")
                i += 1
            if i >= n:
                raise err("unterminated string literal", start)
            body = src[start + 1:i]
            i += 1
            value = unescape(body, line, col, source)
            toks.append(_Tok("string", src[start:i], value, line, col))
        elif c in _PUNCT:
            i += 1
            toks.append(_Tok("punct", c, c, line, col))
        else:
            raise err("unexpected character %r" % c)


def _lex_number(src, i, err):
    n = len(src)
    start = i
    if src[i] == "0" and i + 1 < n and src[i + 1] in "xX":
        i += 2
        j = i
        while i < n and src[i] in _HEX:
            i += 1
        if i == j:
            raise err("hex literal without digits", start)
        value = int(src[j:i], 16)
        kind = "int"
    else:
        while i < n and src[i] in _DIGITS:
            i += 1
        is_float = False
        if i < n and src[i] == ".":
            is_float = True
            i += 1
            while i < n and src[i] in _DIGITS:
                i += 1
        if i < n and src[i] in "eE":
            j = i + 1
            if j < n and src[j] in "+-":
                j += 1
            if j < n and src[j] in _DIGITS:
                is_float = True
                i = j
                while i < n and src[i] in _DIGITS:
                    i += 1
            else:
                raise err("malformed exponent", start)
        text = src[start:i]
        if i < n and src[i] in "fF":
            is_float = True
            i += 1
        if is_float:
            if text.startswith("0") and len(text) > 1 and text[1] in _DIGITS:
                # "01.5" is not a valid float literal
                raise err("leading zero in float literal %r" % text, start)
            kind = "float"
            value = float(text)
        elif len(text) > 1 and text[0] == "0":
            if any(d not in _OCT for d in text):
                raise err("invalid octal literal %r" % text, start)
            kind = "int"
            value = int(text, 8)
        else:
            kind = "int"
            value = int(text)
    if i < n and src[i] in _IDCHARS + ".":
        raise err("malformed number %r" % src[start:i + 1], start)
    return kind, value, i


# ---------------------------------------------------------------------------
# parser

_CLOSE = {"{": "}", "<": ">"}


class _Parser:
    def __init__(self, toks, source):
        self.toks = toks
        self.pos = 0
        self.source = source

    def peek(self, k=0):
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def next(self):
        t = self.toks[self.pos]
        if t.kind != "eof":
            self.pos += 1
        return t

    def err(self, msg, tok=None):
        tok = tok or self.peek()
        return TextProtoError(msg, tok.line, tok.col, self.source)

    def is_punct(self, ch, k=0):
        t = self.peek(k)
        return t.kind == "punct" and t.text == ch

    def expect(self, ch):
        t = self.next()
        if t.kind != "punct" or t.text != ch:
            raise self.err("expected %r, found %r" % (ch, t.text or "end of input"), t)
        return t

    def parse_body(self, msg, close):
        while True:
            t = self.peek()
            if close is None and t.kind == "eof":
                return
            if close is not None and t.kind == "punct" and t.text == close:
                self.next()
                return
            if t.kind == "eof":
                raise self.err("unexpected end of input, expected %r" % close, t)
            self.parse_field(msg)
            if self.is_punct(",") or self.is_punct(";"):
                self.next()

    def parse_field_name(self):
        t = self.next()
        if t.kind == "ident":
            return t.text, False
        if t.kind == "punct" and t.text == "[":
            # [pkg.ext] or [domain.name/pkg.Type]
            parts = []
            is_any = False
            parts.append(self.expect_ident())
            while True:
                if self.is_punct("."):
                    self.next()
                    parts.append(".")
                    parts.append(self.expect_ident())
                elif self.is_punct("/"):
                    if is_any:
                        raise self.err("more than one '/' in an Any type URL")
                    self.next()
                    is_any = True
                    parts.append("/")
                    parts.append(self.expect_ident())
                else:
                    break
            self.expect("]")
            return "[" + "".join(parts) + "]", is_any
        raise self.err("expected a field name, found %r" % (t.text or "end of input"), t)

    def expect_ident(self):
        t = self.next()
        if t.kind != "ident":
            raise self.err("expected an identifier, found %r" % (t.text or "end of input"), t)
        return t.text

    def parse_field(self, msg):
        name_tok = self.peek()
        name, is_any = self.parse_field_name()
        colon = False
        if self.is_punct(":"):
            self.next()
            colon = True
        t = self.peek()
        if t.kind == "punct" and t.text in _CLOSE:
            msg.fields.append((name, self.parse_message()))
            return
        if is_any:
            raise self.err("an Any expansion needs a message value", t)
        if t.kind == "punct" and t.text == "[":
            # list form: messages may omit the colon, scalars may not
            self.next()
            first = True
            while not self.is_punct("]"):
                if not first:
                    self.expect(",")
                first = False
                if self.peek().kind == "punct" and self.peek().text in _CLOSE:
                    msg.fields.append((name, self.parse_message()))
                else:
                    if not colon:
                        raise self.err("missing ':' before scalar list of %r" % name, name_tok)
                    msg.fields.append((name, self.parse_scalar()))
            self.next()
            return
        if not colon:
            raise self.err("missing ':' after scalar field %r" % name, t)
        msg.fields.append((name, self.parse_scalar()))

    def parse_message(self):
        t = self.next()
        m = Message(line=t.line, col=t.col)
        self.parse_body(m, _CLOSE[t.text])
        return m

    def parse_scalar(self):
        t = self.next()
        if t.kind == "string":
            data = t.value
            while self.peek().kind == "string":
                data += self.next().value
            return Scalar("string", data, line=t.line, col=t.col)
        negative = False
        if t.kind == "punct" and t.text == "-":
            negative = True
            t = self.next()
        if t.kind == "int":
            return Scalar("int", -t.value if negative else t.value, negative,
                          t.line, t.col)
        if t.kind == "float":
            return Scalar("float", -t.value if negative else t.value,
                          negative, t.line, t.col)
        if t.kind == "ident":
            if negative and t.text.lower() not in ("inf", "infinity", "nan"):
                raise self.err("'-' before identifier %r" % t.text, t)
            return Scalar("ident", t.text, negative, t.line, t.col)
        raise self.err("expected a value, found %r" % (t.text or "end of input"), t)


def parse(text, source=None):
    """Parse a whole text-format message; returns a Message."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TextProtoError("input is not UTF-8: %s" % e, source=source)
    p = _Parser(_tokenize(text, source), source)
    root = Message(line=1, col=1)
    p.parse_body(root, None)
    if p.peek().kind != "eof":  # pragma: no cover - parse_body loops to eof
        raise p.err("trailing input")
    return root


def parse_file(path):
    with open(path, "rb") as f:
        return parse(f.read(), source=str(path))
