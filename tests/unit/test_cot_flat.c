/*
 * Unit tests for flat.c: whatever kz__cot_flat_walk() accepts, expat
 * accepts and reports the same way, and kz_cot_detail_split() gives the
 * same split with it as with expat alone (flat_check.h).  Inputs: hand
 * cases at the subset's edges, generated content from a token alphabet,
 * and byte mutations of the device captures' details.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flat_check.h"

static bool flat(const char *s)
{
    return kz__cot_flat_walk(s, strlen(s), 0, NULL, NULL);
}

static void check(const char *s)
{
    if (!flat_check(s, strlen(s)))
        fail_msg("flat and expat differ on '%s'", s);
}

/* The subset: what it takes, what it leaves to expat. */
static void test_edges(void **state)
{
    static const char *const in[] = {
        "",
        "<contact callsign=\"A\" endpoint=\"*:-1:stcp\"/>",
        "<__group name='Cyan' role=\"Team 'Member'\"/><remarks>KZF s=12</remarks>",
        "<a x = \"1\"\n y='2' ></a >",
        "<marti><dest uid=\"U\"/><dest callsign=\"B\"/></marti>",
        "text > more\n\t<x/>",
        "<a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a>",
        "<_x.y-z9/>",
    };
    static const char *const out[] = {
        "<a>",
        "</a>",
        "<a></b>",
        "<a x=\"1\" x=\"2\"/>",
        "<a x=\"1\"y=\"2\"/>",
        "<a x=\"&amp;\"/>",
        "a &amp; b",
        "<![CDATA[x]]>",
        "<!-- c -->",
        "<?pi x?>",
        "x]]>y",
        "<a x=\"\t\"/>",
        "line\r\nbreak",
        "<a x=\"\xc3\xa9\"/>",
        "\xc3\xa9",
        "<ns:a/>",
        "<1a/>",
        "<a/ >",
        "<a x=1/>",
        "<a><b><c><d><e><f><g><h><i></i></h></g></f></e></d></c></b></a>",
        "<a x=\"<\"/>",
        "<",
        "<a",
        "\x01",
    };

    KZ_UNUSED(state);
    for (size_t i = 0; i < KZ_ARRAY_LEN(in); i++) {
        if (!flat(in[i]))
            fail_msg("not flat: '%s'", in[i]);
        check(in[i]);
    }
    for (size_t i = 0; i < KZ_ARRAY_LEN(out); i++) {
        if (flat(out[i]))
            fail_msg("flat: '%s'", out[i]);
        check(out[i]);
    }
}

static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;

static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state >> 12, rnd_state ^= rnd_state << 25, rnd_state ^= rnd_state >> 27;
    return (unsigned)((rnd_state * 2685821657736338717ULL) >> 33) % n;
}

/* Content from tokens that make most of it well-formed and much of it flat. */
static void generate(struct kz_sbuf *b)
{
    static const char *const tok[] = {
        "<contact",
        "<__group",
        "<marti>",
        "</marti>",
        "<dest",
        "<status",
        "<track",
        "<link",
        "<remarks>",
        "</remarks>",
        "<a>",
        "</a>",
        "<b",
        " callsign=\"X\"",
        " endpoint='e'",
        " name=\"Cyan\"",
        " role=\"HQ\"",
        " uid=\"U\"",
        " mission=\"m\"",
        " battery=\"5\"",
        " speed=\"1.5\"",
        " course=\"0.0\"",
        " type=\"a-f\"",
        " relation=\"p\"",
        " phone=\"1\"",
        "/>",
        ">",
        " ",
        "\n",
        "text",
        "&amp;",
        "]]>",
        "\t",
        "\r",
        "'",
        "\"",
        "=",
        "<!-- c -->",
        "</contact>",
        "</b>",
        " x=\"1\"",
        "\xc3\xa9",
        "<",
        "/",
    };

    for (unsigned n = 1 + rnd(12); n > 0; n--)
        kz_sbuf_adds(b, tok[rnd(KZ_ARRAY_LEN(tok))]);
}

static void test_generated(void **state)
{
    unsigned flats = 0;

    KZ_UNUSED(state);
    for (unsigned i = 0; i < 100000; i++) {
        struct kz_sbuf b = KZ_SBUF_INIT;
        generate(&b);
        if (!flat_check(b.buf, b.len))
            fail_msg("flat and expat differ on '%s'", b.buf);
        flats += kz__cot_flat_walk(b.buf, b.len, 0, NULL, NULL);
        kz_sbuf_release(&b);
    }
    print_message("%u of 100000 flat\n", flats);
    assert_true(flats > 2000);
}

/* Single-byte changes of flat content: every one is decided the same as expat would. */
static void test_mutations(void **state)
{
    static const char seed[] =
        "<contact callsign=\"KZF-00042\" endpoint=\"*:-1:stcp\"/><__group name=\"Cyan\" "
        "role=\"Team Member\"/><marti><dest uid=\"U\"/><dest callsign='B'/></marti>"
        "<remarks>KZF s=1</remarks><track speed=\"0.0\" course=\"80.24833892285461\"/>";

    KZ_UNUSED(state);
    for (size_t i = 0; i < sizeof(seed) - 1; i++) {
        for (unsigned c = 1; c < 256; c++) {
            char m[sizeof(seed)];
            memcpy(m, seed, sizeof(seed));
            m[i] = (char)c;
            if (!flat_check(m, sizeof(seed) - 1))
                fail_msg("flat and expat differ at %zu byte %u", i, c);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
