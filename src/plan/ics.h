/*
 * ics.h - a plan as iCalendar text (RFC 5545): one VEVENT for the plan's
 * window and one per timeline item, all times in UTC, each summary prefixed
 * with the classification banner of what it describes.
 *
 * The input is the plan object of the REST API (docs/plans.md) as the
 * caller may see it: the calendar holds exactly what the object holds, so
 * filtering by the release rule happens before, on the object.
 *
 * Ownership: nothing is kept; the text is appended to the caller's buffer.
 */
#ifndef KZ_PLAN_ICS_H
#define KZ_PLAN_ICS_H

#include <jansson.h>

#include "core/core.h"

/*
 * Append the VCALENDAR of `plan` to `out`: CRLF line ends, TEXT values
 * escaped (backslash, semicolon, comma, newline), lines folded at 75 octets
 * without splitting a UTF-8 sequence (invalid bytes become U+FFFD, control
 * characters are dropped).  DTSTAMP is the plan's "updated" time (so the
 * same revision gives the same bytes), or now when it has none.
 *
 * Returns KZ_OK, or KZ_ERR_INVAL with `out` unchanged when "id", "title",
 * "start" or "end" is missing or not a string, a time is not ISO 8601 UTC,
 * or an item has no valid "time".
 */
int kz_plan_ics(const json_t *plan, struct kz_sbuf *out);

#endif
