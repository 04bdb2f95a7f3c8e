# Shared by the bench scripts (sourced): the nginx prefix they load and
# the statistics they print.

# nginx_prefix DIR PORT: testdata/nginx laid out under DIR, listening on
# 127.0.0.1:PORT.
nginx_prefix() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mkdir -p "$1/html" "$1/tmp" "$1/logs"
	cp "$here/nginx/html/index.html" "$1/html/"
	sed -e "s/@PORT@/$2/" -e "s#@UPSTREAM@#$1/up.sock#" "$here/nginx/nginx.conf" >"$1/nginx.conf"
}

# stat FILE: the median, minimum and maximum of the numbers in FILE, one
# a line ("- - -" when it has none).
stat() { sort -g "$1" | awk '{a[NR]=$1} END {if (NR==0) {print "- - -"; exit}; m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m, a[1], a[NR]}'; }
