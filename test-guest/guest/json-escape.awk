# Turns bytes, given as decimal numbers (od -An -v -tu1), into one JSON string literal.
# Quote, backslash and control characters are escaped; valid UTF-8 passes through;
# each byte of an invalid UTF-8 sequence becomes U+FFFD, so the output is always a
# valid JSON string whatever the input bytes are.
BEGIN {
  hex = "0123456789abcdef"
  printf "\""
  need = 0        # continuation bytes still expected
  nseq = 0        # bytes held of the current multi-byte sequence
}

function flush_bad(   i) {
  for (i = 0; i < nseq; i++) printf "\357\277\275"
  nseq = 0
  need = 0
}

function start(b) {
  if (b < 128) {
    if (b == 34) printf "\\\""
    else if (b == 92) printf "\\\\"
    else if (b == 10) printf "\\n"
    else if (b == 13) printf "\\r"
    else if (b == 9) printf "\\t"
    else if (b == 8) printf "\\b"
    else if (b == 12) printf "\\f"
    else if (b < 32) printf "\\u00%s%s", substr(hex, int(b / 16) + 1, 1), substr(hex, b % 16 + 1, 1)
    else printf "%c", b
    return
  }
  seq[0] = b
  nseq = 1
  lo = 128; hi = 191
  if (b >= 194 && b <= 223) need = 1
  else if (b >= 224 && b <= 239) {
    need = 2
    if (b == 224) lo = 160
    if (b == 237) hi = 159
  } else if (b >= 240 && b <= 244) {
    need = 3
    if (b == 240) lo = 144
    if (b == 244) hi = 143
  } else flush_bad()
}

function byte(b,   i) {
  if (need == 0) { start(b); return }
  if (b >= lo && b <= hi) {
    seq[nseq++] = b
    lo = 128; hi = 191
    if (--need == 0) {
      for (i = 0; i < nseq; i++) printf "%c", seq[i]
      nseq = 0
    }
    return
  }
  flush_bad()
  start(b)
}

{ for (f = 1; f <= NF; f++) byte($f + 0) }

END {
  flush_bad()
  printf "\""
}
