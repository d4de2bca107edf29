#!/bin/sh
# The demo's sample plans, entered through `kizuna plan` by the staff
# workstations of config/kizuna.yaml (staff-us on 8081, staff-jp on 8082):
#   - a Keen Sword-style bilateral field exercise, approved by both sides
#     and moved to initial planning;
#   - Operation Tomodachi (2011) as a dated HADR example with the command
#     arrangements of the time (sources below; docs/plans.md).
# Usage: scripts/demo-plans.sh [BUILD_DIR]   (the demo server must be running)
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
plan() { "$top/$build/kizuna" plan "$@"; }
us="-s 127.0.0.1:8081"
jp="-s 127.0.0.1:8082"

# The id of the plan `create` just made ("created p-xxxxxxxx: ...").
created() { sed -n 's/^created \(p-[0-9a-f]*\):.*/\1/p'; }

# ---- Keen Sword 27 (sample) ------------------------------------------------
# Keen Sword is the biennial joint bilateral field training exercise of the
# JSDF and US forces; Keen Sword 25 ran 2024-10-23 to 11-01 from Hokkaido to
# Okinawa (domain.md 4.2).  Dates and serials here are illustrative.
ks=$(plan create $us --title "Keen Sword 27 (sample)" --kind exercise --legal-basis training \
    --lead USFJ --participants USFJ,JJOC --start 2026-10-22T00:00:00Z \
    --end 2026-10-31T00:00:00Z --label "SECRET//REL TO USA, JPN" | created)
plan item "$ks" $us --time 2026-10-22T00:00:00Z --lat 35.748 --lon 139.348 \
    --place "BJOCC, Yokota Air Base" --units USFJ,5AF,JASDF-ADC \
    --description "Bilateral joint operations coordination centre opens" >/dev/null
plan item "$ks" $jp --time 2026-10-22T01:00:00Z --lat 35.693 --lon 139.728 \
    --place "Camp Ichigaya" --units JJOC \
    --description "JJOC operations floor joins the bilateral C2 cell" >/dev/null
plan item "$ks" $us --time 2026-10-24T00:00:00Z --lat 26.356 --lon 127.768 \
    --place "Kadena Air Base" --units 5AF,JASDF-ADC \
    --description "Bilateral air and missile defence serial" >/dev/null
plan item "$ks" $jp --time 2026-10-26T00:00:00Z --lat 35.292 --lon 139.668 \
    --place "Yokosuka" --units C7F,JMSDF-SDF \
    --description "Maritime serial: escort and replenishment" >/dev/null
plan approve "$ks" $jp --reason "JJOC concurs" >/dev/null
plan approve "$ks" $us --reason "USFJ concurs" >/dev/null
plan stage "$ks" $us --to initial_planning >/dev/null

# ---- Operation Tomodachi (2011) --------------------------------------------
# Sources: Browne, "Insights from Operation Tomodachi BCAT-Sendai"; Japan
# Policy Forum No. 8 (2011).  USFJ was designated the joint task force for US
# forces on 2011-03-12; Japan stood up JTF-Tohoku on 03-14; bilateral
# coordination action teams (BCATs) opened at the Ministry of Defense
# (Ichigaya) and at Sendai on 03-15; III MEF served as the land component
# and handed over to USARJ on 04-07; the operation ran to 05-04.
to=$(plan create $us --title "Operation Tomodachi (2011)" --kind hadr --legal-basis hadr \
    --lead USFJ --participants USFJ,JTF-TOHOKU --start 2011-03-12T00:00:00Z \
    --end 2011-05-04T00:00:00Z --label UNCLASSIFIED | created)
plan item "$to" $us --time 2011-03-12T00:00:00Z --lat 35.748 --lon 139.348 \
    --place "Yokota Air Base" --units USFJ \
    --description "USFJ designated joint task force for US forces" >/dev/null
plan item "$to" $us --time 2011-03-14T00:00:00Z --lat 38.268 --lon 140.871 \
    --place "Sendai" --units JTF-TOHOKU \
    --description "JSDF Joint Task Force Tohoku stood up" >/dev/null
plan item "$to" $us --time 2011-03-15T00:00:00Z --lat 35.693 --lon 139.728 \
    --place "Ministry of Defense, Ichigaya" --units USFJ,JTF-TOHOKU \
    --description "Bilateral coordination action team (BCAT) opens at the MoD" >/dev/null
plan item "$to" $us --time 2011-03-15T06:00:00Z --lat 38.268 --lon 140.871 \
    --place "BCAT-Sendai" --units USFJ,JTF-TOHOKU \
    --description "BCAT-Sendai opens beside JTF-Tohoku" >/dev/null
plan item "$to" $us --time 2011-04-07T00:00:00Z --lat 35.515 --lon 139.394 \
    --place "Camp Zama" --units IIIMEF,USARJ \
    --description "Land component: transfer of authority from III MEF to USARJ" >/dev/null

echo "sample plans: $ks (Keen Sword 27), $to (Operation Tomodachi)"
