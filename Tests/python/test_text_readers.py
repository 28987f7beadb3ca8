"""The C entry points of the two text readers (issue 13 item 7): one UTF-8 rule, CRLF, combining
marks after '=', keys compared by Unicode scalars. The reference for validity is Python's own
UTF-8 decoder (bytes.decode('utf-8'), strict)."""
import ctypes

import pytest

PARSE_ERROR, OK, INVALID_VALUE = 11, 0, 4
HEADER = b"general.architecture=llama\nllama.rope.dimension_count=8\n"


def gguf(rr, text):
    from resonance_rope._lib import library
    lib, h = library(), ctypes.c_void_p()
    s = lib.rr_rope_create_from_gguf_metadata(text, len(text), 0, 0, -1, ctypes.byref(h))
    msg = lib.rr_last_error_message().decode(errors="replace")
    lib.rr_rope_free(h)
    return s, msg


def hf(rr, text):
    from resonance_rope._lib import library
    lib, h = library(), ctypes.c_void_p()
    s = lib.rr_rope_create_from_hf_config(text, len(text), 0, 0, ctypes.byref(h))
    msg = lib.rr_last_error_message().decode(errors="replace")
    lib.rr_rope_free(h)
    return s, msg


BODIES = [b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
          b"\xff", b"\x80", b"\xe2\x82", b"\xef\xbf\xbd"]


@pytest.mark.parametrize("body", BODIES, ids=[b.hex() for b in BODIES])
def test_one_utf8_rule_for_both_readers(rr, body):
    try:
        body.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    sg, mg = gguf(rr, HEADER + b"llama.name=" + body + b"\n")
    sj, mj = hf(rr, b'{"head_dim": 8, "name": "' + body + b'"}')
    assert (sg == OK) == valid and (sj == OK) == valid, (sg, mg, sj, mj)
    if not valid:
        assert sg == sj == PARSE_ERROR
        assert "invalid UTF-8 at byte" in mg and "invalid UTF-8 at byte" in mj, (mg, mj)


def test_gguf_crlf(rr):
    text = HEADER.replace(b"\n", b"\r\n") + b"llama.rope.freq_base=500000\r\n"
    assert gguf(rr, text)[0] == OK


def test_gguf_combining_mark_after_equals(rr):
    assert gguf(rr, HEADER + "llama.name=\u0301x\n".encode())[0] == OK


def test_keys_compared_by_scalars(rr):
    # Canonically equivalent, distinct in JSON and GGUF: accepted as two keys.
    for a, b in (("\u00e9", "e\u0301"), ("\u212a", "K")):
        assert hf(rr, ('{"head_dim": 8, "%s": 1, "%s": 2}' % (a, b)).encode())[0] == OK
        assert gguf(rr, HEADER + ("x%s=1\nx%s=2\n" % (a, b)).encode())[0] == OK
    s, m = hf(rr, '{"head_dim": 8, "\\u00e9": 1, "\u00e9": 2}'.encode())
    assert s == PARSE_ERROR and "duplicate key" in m
    s, m = gguf(rr, HEADER + "x\u00e9=1\nx\u00e9=2\n".encode())
    assert s == INVALID_VALUE and "given twice" in m
