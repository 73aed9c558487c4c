#!/bin/sh
# t/fuzz/fuzz.sh - build the libFuzzer harnesses and run each for a while
# (make fuzz; see Makefile.am for adding a harness).
#
# Owns: compiling libjanus's sources with coverage, ASan and UBSan into
# _fuzz/ (all of them every time: a few seconds, and no stale object can
# outlive a header change), linking each harness t/fuzz/NAME.c with
# t/fuzz/fuzz.c, and running it for FUZZ_SECONDS on the corpus
# _fuzz/corpus/NAME, seeded from t/fuzz/NAME/ (which it never writes).
# Any finding (a failed check, a sanitizer report, a crash, a leak, an
# input running over 10 s) fails the run, its input kept as
# _fuzz/NAME-crash-* (or leak-, timeout-). Prints executions per harness.
#
# Usage: fuzz.sh 'NAME...' SOURCE...   with FUZZ_OK, FUZZ_CC, FUZZ_SECONDS,
# FUZZ_WARN, FUZZ_LIBS, srcdir and builddir in the environment.
set -eu
harnesses=$1
shift

if [ "$FUZZ_OK" != yes ]; then
	echo "make fuzz: '$FUZZ_CC' cannot build libFuzzer harnesses with ASan and UBSan" >&2
	echo "  (configure checked: see config.log). Install clang and its runtimes" >&2
	echo "  (Debian 12: apt-get install clang libclang-rt-14-dev) and run ./configure" >&2
	echo "  again, or ./configure FUZZ_CC=/path/to/clang." >&2
	exit 1
fi

out=$builddir/_fuzz
flags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined"
flags="$flags -fno-sanitize-recover=undefined -I$srcdir -I$builddir $FUZZ_WARN"
rm -rf "$out/obj" "$out/libjanus-fuzz.a"
mkdir -p "$out/obj"

objs=""
for src in "$@"; do
	case $src in
	*.c) ;;
	*) continue ;;
	esac
	obj=$out/obj/$(printf '%s' "$src" | tr / _ | sed 's/\.c$/.o/')
	$FUZZ_CC $flags -fsanitize=fuzzer-no-link -c "$srcdir/$src" -o "$obj"
	objs="$objs $obj"
done
ar rc "$out/libjanus-fuzz.a" $objs

for h in $harnesses; do
	$FUZZ_CC $flags -fsanitize=fuzzer "$srcdir/t/fuzz/$h.c" "$srcdir/t/fuzz/fuzz.c" \
	    "$out/libjanus-fuzz.a" $FUZZ_LIBS -o "$out/$h"
done

status=0
for h in $harnesses; do
	mkdir -p "$out/corpus/$h"
	log=$out/$h.log
	if "$out/$h" -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$out/$h-" "$out/corpus/$h" "$srcdir/t/fuzz/$h" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz $h: ${runs:-?} executions in $FUZZ_SECONDS s, no finding"
	else
		rc=$?
		echo "fuzz $h: FINDING (exit $rc); the end of $log:"
		tail -n 40 "$log" | sed 's/^/  /'
		status=1
	fi
done
exit $status
