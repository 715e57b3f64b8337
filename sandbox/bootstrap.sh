#!/bin/sh
# Offline builder, step 1: a minimal Debian root filesystem for the sandbox image.
# Usage: bootstrap.sh ROOTFS SUITE MIRROR
#
# Needs root and debootstrap. MIRROR comes from the machine's own apt configuration
# (ecoagent reads it; nothing is hard-coded here), so this works wherever apt works,
# with no Docker registry. ecoagent then installs requirements.txt into the tree
# with the host's pip and `docker import`s it.
set -eu
ROOTFS=$1
SUITE=$2
MIRROR=$3

debootstrap --variant=minbase --include=python3 "$SUITE" "$ROOTFS" "$MIRROR"

# The non-root user the code runs as (uid 1000), and `nobody` exists in minbase.
echo "sandbox:x:1000:1000:ecoagent sandbox:/workspace:/bin/sh" >> "$ROOTFS/etc/passwd"
echo "sandbox:x:1000:" >> "$ROOTFS/etc/group"
echo "sandbox:*:19000:0:99999:7:::" >> "$ROOTFS/etc/shadow"
mkdir -p "$ROOTFS/workspace"
chown 1000:1000 "$ROOTFS/workspace"
# Generated code often says `python`.
ln -sf python3 "$ROOTFS/usr/bin/python"

# Nothing in the sandbox needs apt's caches, docs or translations.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/*
