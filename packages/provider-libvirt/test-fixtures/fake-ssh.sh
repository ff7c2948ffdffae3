#!/bin/sh
# Stands in for `ssh` in the ssh-transport integration test: skips ssh's options and the host,
# then runs the remote command locally, so the whole tunnel path (spawn, stdin/stdout proxying,
# virt-ssh-helper or nc) is exercised without an sshd.
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; shift; break ;;
    *) shift ;;
  esac
done
exec sh -c "$*"
