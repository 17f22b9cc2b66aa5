#!/usr/bin/env bash
# fresh-debian.sh - build and test gst-vyre in a fresh Debian 12 root, as a
# newcomer would on a freshly installed machine.
#
#   bash tests/ci/fresh-debian.sh
#
# Makes a Debian 12 (bookworm) root with `debootstrap --variant=minbase`
# from the Debian mirror that this machine's apt sources name, copies the
# source into it (the committed tree, `git archive HEAD`), mounts /proc,
# /sys, /dev and a tmpfs on /tmp inside it, and runs there, as root:
#
#   bash tests/quickstart.sh demo
#   bash tests/quickstart.sh test
#
# so an install step missing from quickstart.sh's PACKAGES, or a test that
# leans on something only a developer's machine has, fails here instead of
# on a user's machine.  CI runs it after the host job (.ci/run).
#
# Needs: root, Debian (debootstrap is installed when missing), network to
# the Debian mirror, about 4 GB free under the root's directory.
# The mounts live in a private mount namespace (unshare), are unmounted on
# exit by a trap, and vanish with the namespace even if this script is
# killed; the root is deleted afterwards.  Stops at the first failing step
# and names it.
#
# Environment:
#   VYRE_FRESH_ROOT=DIR      make the root in DIR (new or empty); default a
#                            new directory under /var/tmp
#   VYRE_FRESH_KEEP=1        keep the root afterwards (to look around)
#   VYRE_FRESH_SOURCE=worktree  copy the working tree (without .git and
#                            build directories) instead of HEAD
#   VYRE_DEBIAN_MIRROR=URL   the mirror to bootstrap from
set -Eeuo pipefail

SUITE=bookworm
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SELF="$REPO_ROOT/tests/ci/fresh-debian.sh"
# Where the source lands inside the root, as a user's clone would.
SRC_IN_ROOT=/root/gst-vyre
# Each long step is bounded so a stalled mirror or a hung test ends the
# run with a message instead of running into CI's own limit.
BOOTSTRAP_TIMEOUT_S=1200
QUICKSTART_TIMEOUT_S=2400
CURRENT_STEP="start-up"

say() { printf '\n==> fresh-debian: %s\n' "$*"; }
die() {
  printf '\nfresh-debian: FAILED during: %s\n%s\n' "$CURRENT_STEP" "$*" >&2
  exit 1
}
on_error() {
  local rc=$?
  printf '\nfresh-debian: FAILED (exit %s) during: %s\n' "$rc" "$CURRENT_STEP" >&2
  exit "$rc"
}
trap on_error ERR
# A signal ends the script through exit, so the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM

# Wall time of each step: printed as it ends and again at the end.
STEP_TIMES=()
record_step_time() {
  STEP_TIMES+=("$(printf '%5d s  %s' "$(( SECONDS - $1 ))" "$2")")
  printf '\n==> fresh-debian: %s took %d s\n' "$2" "$(( SECONDS - $1 ))"
}

# --- the part inside the private mount namespace ----------------------------

# Mount points under the root, in mount order; unmounted in reverse.
MOUNTED=()
unmount_all() {
  local i m
  for (( i = ${#MOUNTED[@]} - 1; i >= 0; i-- )); do
    m="${MOUNTED[i]}"
    umount -R "$m" 2>/dev/null || umount -R -l "$m" \
      || printf 'fresh-debian: could not unmount %s\n' "$m" >&2
  done
  MOUNTED=()
}

# mount_in_root TARGET MOUNT_ARGS...
mount_in_root() {
  local target="$1"
  shift
  mount "$@" "$target" || die "mount $* $target failed." \
      "Fix: run as root on a machine that allows mounts (not an unprivileged container)."
  MOUNTED+=("$target")
}

# run_in_root ROOT COMMAND: COMMAND in bash inside ROOT, in the source
# directory, with a clean environment (nothing of the caller's leaks in).
run_in_root() {
  local root="$1" cmd="$2" t=$SECONDS rc=0
  CURRENT_STEP="$cmd (in the fresh root)"
  say "$cmd"
  timeout --kill-after=30 "$QUICKSTART_TIMEOUT_S" \
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /bin/bash -c "cd $SRC_IN_ROOT && $cmd" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    die "'$cmd' did not finish within $QUICKSTART_TIMEOUT_S s." \
        "Fix: look at the last step it printed above."
  fi
  [ "$rc" -eq 0 ] || die "'$cmd' exited $rc in the fresh Debian 12 root." \
      "Its own FAILED line above names the step; a missing Debian package" \
      "belongs in PACKAGES in tests/quickstart.sh."
  record_step_time "$t" "$cmd"
}

inside_namespace() {
  local root="$1"
  trap unmount_all EXIT
  CURRENT_STEP="mounting /proc, /sys, /dev and a tmpfs /tmp in the root"
  say "Mounting /proc, /sys, /dev and a tmpfs on /tmp in $root"
  mount_in_root "$root/proc" -t proc proc
  mount_in_root "$root/sys" --rbind /sys
  mount_in_root "$root/dev" --rbind /dev
  mount_in_root "$root/tmp" -t tmpfs -o mode=1777 fresh-root-tmp

  run_in_root "$root" "bash tests/quickstart.sh demo"
  run_in_root "$root" "bash tests/quickstart.sh test"

  say "inside the root: OK; wall time per step:"
  printf '%s\n' "${STEP_TIMES[@]}"
}

# --- the part on the host ----------------------------------------------------

# sources_uri SUITE: the first URI that this machine's apt sources use for
# SUITE (one-line .list files and deb822 .sources files), or nothing.
sources_uri() {
  local suite="$1" f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      function flush(  n, s, u, k) {
        if (types ~ /(^| )deb( |$)/ && enabled != "no") {
          n = split(suites, s, " ")
          for (k = 1; k <= n; k++)
            if (s[k] == want) { split(uris, u, " "); print u[1]; break }
        }
        types = suites = uris = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      { key = tolower($1); $1 = "" }
      key == "types:" { types = $0 }
      key == "suites:" { suites = $0 }
      key == "uris:" { uris = $0 }
      key == "enabled:" { enabled = tolower($2) }
      END { flush() }' "$f"
  done
}

install_debootstrap() {
  CURRENT_STEP="installing debootstrap on this machine"
  if command -v debootstrap >/dev/null 2>&1 \
      && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    say "debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null || echo '(version unknown)') is installed"
    return
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "debootstrap is missing and this is not a Debian system." \
        "Fix: run this on Debian 12, or install debootstrap."
  say "Installing debootstrap and the Debian archive keyring"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update || die "apt-get update failed. Fix: check network access / apt sources."
  apt-get install -y --no-install-recommends debootstrap debian-archive-keyring \
    || die "apt-get install debootstrap failed. Fix: see the apt output above."
}

# copy_source DEST: the committed tree (HEAD) into DEST, or the working
# tree when VYRE_FRESH_SOURCE=worktree or when there is no git checkout.
copy_source() {
  local dest="$1"
  CURRENT_STEP="copying the source into the root"
  mkdir -p "$dest"
  if [ "${VYRE_FRESH_SOURCE:-head}" != worktree ] && command -v git >/dev/null 2>&1 \
      && git -C "$REPO_ROOT" rev-parse --verify -q HEAD >/dev/null; then
    say "Source: git archive HEAD ($(git -C "$REPO_ROOT" log -1 --format='%h %s'));" \
        "uncommitted changes are not in it (VYRE_FRESH_SOURCE=worktree copies them)"
    git -C "$REPO_ROOT" archive --format=tar HEAD | tar -x -C "$dest"
  else
    say "Source: the working tree $REPO_ROOT, without .git and build directories"
    tar -C "$REPO_ROOT" --exclude=./.git --exclude='./build*' --exclude=./.gpu \
        --exclude='__pycache__' -cf - . | tar -x -C "$dest"
  fi
}

# mounts_under DIR: the mount points under DIR that this namespace sees.
mounts_under() {
  awk -v dir="$1" 'index($2, dir "/") == 1 || $2 == dir { print $2 }' /proc/self/mounts
}

ROOT=""
ROOT_MADE_HERE=0
cleanup_root() {
  [ -n "$ROOT" ] && [ "$ROOT_MADE_HERE" -eq 1 ] || return 0
  if [ "${VYRE_FRESH_KEEP:-0}" = 1 ]; then
    say "Kept the root at $ROOT (VYRE_FRESH_KEEP=1); remove it with: rm -rf --one-file-system $ROOT"
    return 0
  fi
  local left
  left="$(mounts_under "$ROOT")"
  if [ -n "$left" ]; then
    printf 'fresh-debian: NOT removing %s: still mounted there:\n%s\nFix: umount -R -l each of them, then rm -rf --one-file-system %s\n' \
      "$ROOT" "$left" "$ROOT" >&2
    return 0
  fi
  rm -rf --one-file-system "$ROOT"
}

main() {
  local t0=$SECONDS t
  [ "$(id -u)" -eq 0 ] || die "not root." \
      "Fix: run as root (debootstrap, chroot and mount need it): sudo bash tests/ci/fresh-debian.sh"
  command -v unshare >/dev/null 2>&1 \
    || die "unshare (util-linux) is missing. Fix: apt-get install -y util-linux"

  t=$SECONDS
  install_debootstrap
  record_step_time "$t" "debootstrap installed"

  CURRENT_STEP="choosing the Debian mirror"
  local mirror security
  mirror="${VYRE_DEBIAN_MIRROR:-$(sources_uri "$SUITE" | head -n 1)}"
  if [ -z "$mirror" ]; then
    mirror=http://deb.debian.org/debian
    say "No apt source on this machine names $SUITE: using $mirror"
  fi
  security="$(sources_uri "$SUITE-security" | head -n 1)"

  CURRENT_STEP="making the root's directory"
  if [ -n "${VYRE_FRESH_ROOT:-}" ]; then
    ROOT="$VYRE_FRESH_ROOT"
    mkdir -p "$ROOT"
    [ -z "$(ls -A "$ROOT")" ] || die "VYRE_FRESH_ROOT=$ROOT is not empty." \
        "Fix: name a new or empty directory."
  else
    ROOT="$(mktemp -d /var/tmp/vyre-fresh-debian.XXXXXX)"
  fi
  ROOT_MADE_HERE=1
  trap cleanup_root EXIT
  local avail_kb
  avail_kb="$(df -Pk "$ROOT" | awk 'NR == 2 { print $4 }')"
  [ "$avail_kb" -ge $(( 4 * 1024 * 1024 )) ] \
    || die "only $(( avail_kb / 1024 )) MB free under $ROOT; the root needs about 4 GB." \
        "Fix: free space there or set VYRE_FRESH_ROOT to a directory with more room."

  t=$SECONDS
  CURRENT_STEP="debootstrap --variant=minbase $SUITE $ROOT $mirror"
  say "debootstrap --variant=minbase $SUITE into $ROOT from $mirror"
  timeout --kill-after=30 "$BOOTSTRAP_TIMEOUT_S" \
    debootstrap --variant=minbase \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$SUITE" "$ROOT" "$mirror" \
    || die "debootstrap failed (see its output above; the full log is $ROOT/debootstrap/debootstrap.log)." \
        "Fix: check network access to $mirror, or set VYRE_DEBIAN_MIRROR."
  record_step_time "$t" "debootstrap --variant=minbase"

  CURRENT_STEP="configuring apt and DNS in the root"
  # The same suites as this machine (updates and security when it uses
  # them), so the root installs the package versions a user would get.
  {
    printf 'deb %s %s main\n' "$mirror" "$SUITE"
    if [ -n "$(sources_uri "$SUITE-updates")" ]; then
      printf 'deb %s %s-updates main\n' "$mirror" "$SUITE"
    fi
    if [ -n "$security" ]; then
      printf 'deb %s %s-security main\n' "$security" "$SUITE"
    fi
  } > "$ROOT/etc/apt/sources.list"
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # No daemons start inside a chroot (a package's postinst may try).
  printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  say "apt sources in the root:"
  cat "$ROOT/etc/apt/sources.list"

  copy_source "$ROOT$SRC_IN_ROOT"

  t=$SECONDS
  CURRENT_STEP="quick start inside the fresh root"
  local rc=0
  unshare --mount --propagation private \
    env VYRE_FRESH_INSIDE=1 bash "$SELF" "$ROOT" || rc=$?
  [ "$rc" -eq 0 ] || die "the quick start failed in the fresh Debian 12 root (exit $rc);" \
      "the FAILED lines above name the step."
  record_step_time "$t" "quick start in the root (demo + test)"

  say "OK ($(( SECONDS - t0 )) s); wall time per step:"
  printf '%s\n' "${STEP_TIMES[@]}"
}

# One line, read whole before it runs, so editing this file while it runs
# (a git pull) cannot change what it does next.
if [ "${VYRE_FRESH_INSIDE:-0}" = 1 ]; then inside_namespace "$1"; else main "$@"; fi; exit
