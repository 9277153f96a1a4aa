"""Cellwright's installer: standard library only, run by install.sh / install.ps1 before Cellwright exists."""
