#!/bin/sh
# shellcheck shell=sh
# How a root step on the Docker host enters a folder that a container may write (the models folder, the
# outputs folder): one path component at a time, never through a symbolic link, checking after each step
# that the working directory is the physical folder it expected. Every later operation then uses names
# relative to that directory, so renaming a folder above it cannot redirect them. Functions only, no
# inputs: the host-folders step and the checkpoint placement run this file before their own, and define fail().
refuse_link() {
  fail "$1 is a symbolic link where a folder or file of this program must be; this step runs as root and never follows a link there (a container that could write the folder may have planted it). Check where it points (ls -l $1), move it away and run pulumi up again"
}
# enter_dir BASE REL ON_MISSING: cd into the physical folder BASE (it must be physical already; "." goes on
# from the working directory, which a walk that has begun must do: entering its folder again by name would
# follow whatever is there now), then into each component of REL. A component that is a link is refused; a
# missing one is created by calling ON_MISSING with its name (a function of the script), or refused when
# ON_MISSING is "refuse". Sets $here to the physical path entered.
enter_dir() {
  if [ "$1" != . ]; then
    cd -P -- "$1" 2>/dev/null || fail "cannot enter $1"
    [ "$(pwd -P)" = "$1" ] || fail "$1 resolved to $(pwd -P) while this step entered it; nothing was changed: run pulumi up again"
  fi
  here=$(pwd -P)
  rest=$2
  while [ -n "$rest" ]; do
    comp=${rest%%/*}
    case $rest in */*) rest=${rest#*/} ;; *) rest="" ;; esac
    [ -n "$comp" ] || continue
    if [ -L "$comp" ]; then refuse_link "$here/$comp"; fi
    if [ ! -e "$comp" ]; then
      [ "$3" != refuse ] || fail "$here/$comp does not exist (the host folders step creates it); run pulumi up again"
      "$3" "$comp"
    fi
    if [ -L "$comp" ]; then refuse_link "$here/$comp"; fi
    [ -d "$comp" ] || fail "$here/$comp is not a folder; this step needs a folder there: move it away and run pulumi up again"
    cd -P -- "$comp" || fail "cannot enter $here/$comp"
    [ "$(pwd -P)" = "$here/$comp" ] || fail "$here/$comp was replaced while this step entered it (by a link?); nothing was written there: check the folder and run pulumi up again"
    here="$here/$comp"
  done
}
