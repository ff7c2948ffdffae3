# Prints (without a newline) the first value of key `key` (awk -v key=...) in a small
# YAML or JSON document: `key: value`, `key: "value"`, `key: 'value'`, `"key": "value"`.
# Enough for NoCloud meta-data and OpenStack meta_data.json; not a general parser.
function unquote_json(s,   out, c, i) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\\" && i < length(s)) {
      i++
      c = substr(s, i, 1)
      if (c == "n") c = "\n"
      else if (c == "t") c = "\t"
      else if (c == "r") c = "\r"
    }
    out = out c
  }
  return out
}

!done {
  line = $0
  sub(/\r$/, "", line)
  re = "(^|[{,[:space:]])[\"']?" key "[\"']?[ \t]*:[ \t]*"
  if (!match(line, re)) next
  rest = substr(line, RSTART + RLENGTH)
  if (substr(rest, 1, 1) == "\"") {
    rest = substr(rest, 2)
    if (match(rest, /^([^"\\]|\\.)*/)) value = unquote_json(substr(rest, 1, RLENGTH))
  } else if (substr(rest, 1, 1) == "'") {
    rest = substr(rest, 2)
    value = rest
    sub(/'.*$/, "", value)
  } else {
    value = rest
    sub(/[ \t]+#.*$/, "", value)
    sub(/[,}].*$/, "", value)
    sub(/[ \t]+$/, "", value)
  }
  done = 1
}

END { printf "%s", value }
