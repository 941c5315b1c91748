#!/bin/sh
# man.sh NAME SUMMARY < HELP > NAME.1 - a man page made from a tool's --help
# text, so the installed pages say what the tools themselves say.
set -eu
name=$1 summary=$2
printf '.TH %s 1 "" "larder" "larder manual"\n' "$(echo "$name" | tr a-z A-Z)"
printf '.SH NAME\n%s \\- %s\n' "$name" "$summary"
printf '.SH DESCRIPTION\n.nf\n'
sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"
printf '.fi\n.SH SEE ALSO\nThe README and docs/ of larder.\n'
