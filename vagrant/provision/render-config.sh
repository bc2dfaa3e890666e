#!/usr/bin/env bash
# Renders a failoverd config template: render-config.sh TEMPLATE KEY=VALUE... > OUT
#
# Template syntax, kept small on purpose so the result stays readable INI:
#   @KEY@           replaced by KEY's value
#   @if KEY         the lines up to the matching @endif are kept only when KEY is not empty
#   @endif          (blocks nest)
# Every KEY the template uses must be given (an empty value is fine), and every KEY given must
# be used: a typo on either side is an error, never a silently dropped section. Values may not
# contain a newline or '#' (which starts a comment in failoverd's INI syntax). Runs of blank
# lines left by skipped blocks are squeezed to one.
set -euo pipefail

usage() { echo "usage: render-config.sh TEMPLATE KEY=VALUE..." >&2; exit 2; }
[[ $# -ge 1 ]] || usage
template=$1
shift
[[ -f $template ]] || { echo "render-config: $template: no such file" >&2; exit 2; }

keys=""
for arg in "$@"; do
  [[ $arg == *=* ]] || { echo "render-config: '$arg' is not KEY=VALUE" >&2; exit 2; }
  key=${arg%%=*}
  value=${arg#*=}
  [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] ||
    { echo "render-config: key '$key' must be A-Z, 0-9 and _" >&2; exit 2; }
  [[ $value != *$'\n'* && $value != *'#'* ]] ||
    { echo "render-config: $key: the value may not contain a newline or '#'" >&2; exit 2; }
  case " $keys " in *" $key "*)
    echo "render-config: $key is given twice" >&2; exit 2 ;;
  esac
  keys+="${keys:+ }$key"
  # Values reach awk through the environment: -v would interpret backslashes in them.
  export "FODT_$key=$value"
done
export FODT__KEYS="$keys"

awk -v template="$template" '
function fail(msg) { print "render-config: " template ":" NR ": " msg > "/dev/stderr"; failed = 1; exit 1 }
function given(key) { return index(" " ENVIRON["FODT__KEYS"] " ", " " key " ") > 0 }
function use(key) {
  if (!given(key)) fail(key " is used by the template but not given")
  used[key] = 1
  return ENVIRON["FODT_" key]
}
BEGIN { depth = 0; skip = 0 }
/^@if[ \t]/ {
  if (NF != 2 || $2 !~ /^[A-Z][A-Z0-9_]*$/) fail("expected: @if KEY")
  depth++
  if (use($2) == "" && skip == 0) skip = depth
  next
}
/^@endif[ \t]*$/ {
  if (depth == 0) fail("@endif without @if")
  if (skip == depth) skip = 0
  depth--
  next
}
/^@[a-z]/ { fail("unknown directive: " $0) }
{
  line = $0
  out = ""
  while (match(line, /@[A-Z][A-Z0-9_]*@/)) {
    value = use(substr(line, RSTART + 1, RLENGTH - 2))
    out = out substr(line, 1, RSTART - 1) value
    line = substr(line, RSTART + RLENGTH)
  }
  # Skipped sections would leave runs of blank lines: keep one.
  if (skip == 0 && !(out line == "" && last_blank)) {
    print out line
    last_blank = (out line == "")
  }
}
END {
  if (failed) exit 1
  if (depth != 0) fail("@if without @endif")
  n = split(ENVIRON["FODT__KEYS"], keys, " ")
  for (i = 1; i <= n; i++) if (!(keys[i] in used)) fail(keys[i] " is given but the template never uses it")
}
' "$template"
