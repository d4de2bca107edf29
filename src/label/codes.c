/*
 * codes.c - the ISO 3166-1 alpha-3 country codes and the dissemination
 * controls.  Nation indexes are 1 + the row in the sorted table, so a
 * zero-filled index means "unknown", and index order is alphabetical order,
 * which is the order REL TO lists trigraphs in.
 */
#include <string.h>

#include "label/internal.h"

/* ISO 3166-1 alpha-3, every officially assigned code, sorted. */
static const char nations[][4] = {
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
};

_Static_assert(sizeof(nations) / sizeof(nations[0]) == KZ__NATIONS, "nation table size");
_Static_assert(KZ__NATIONS < 64 * KZ_NATION_WORDS, "nation bitmap too small");

const struct kz__caveat kz__caveats[] = {
    {KZ_CAVEAT_FOUO, "FOUO", NULL},
    {KZ_CAVEAT_ORCON, "ORCON", "OC"},
    {KZ_CAVEAT_NOFORN, "NOFORN", "NF"},
    {KZ_CAVEAT_RELIDO, "RELIDO", NULL},
};
const size_t kz__caveat_count = KZ_ARRAY_LEN(kz__caveats);

unsigned kz_nation_count(void)
{
    return KZ__NATIONS;
}

static int code_cmp(const char *code, const char *row)
{
    for (int i = 0; i < 3; i++)
        if (code[i] != row[i])
            return (unsigned char)code[i] < (unsigned char)row[i] ? -1 : 1;
    return 0;
}

uint16_t kz_nation_index(const char *code, size_t len)
{
    char up[3];
    size_t lo = 0, hi = KZ__NATIONS;

    if (code == NULL || len != 3)
        return KZ_NATION_NONE;
    for (int i = 0; i < 3; i++)
        up[i] = kz__upper(code[i]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = code_cmp(up, nations[mid]);
        if (c == 0)
            return (uint16_t)(mid + 1);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return KZ_NATION_NONE;
}

const char *kz_nation_code(uint16_t idx)
{
    if (idx == KZ_NATION_NONE || idx > KZ__NATIONS)
        return NULL;
    return nations[idx - 1];
}
