# Sourced by ./distclip and ./run-tests: machine set-up once, then a Release build when any source changed.
root=${root:?}
DISTCLIP_DLL="$root/Cli/bin/Release/net10.0/distclip.dll"
stamp="$root/.build/stamp"

distclip_ensure_built() {
  mkdir -p "$root/.build"
  # Again when the set-up scripts changed since (a requirement was added): they are idempotent and quiet.
  if [ ! -f "$root/.build/machine-ready" ] || [ "$root/scripts/setup-machine.sh" -nt "$root/.build/machine-ready" ] \
       || [ "$root/scripts/apt.sh" -nt "$root/.build/machine-ready" ]; then
    bash "$root/scripts/setup-machine.sh"
    touch "$root/.build/machine-ready"
  fi
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "distclip: the .NET 10 SDK (dotnet) is not on PATH; install it first." >&2
    exit 1
  fi
  # Rebuild when a source or project file is newer than the last successful build.
  if [ ! -f "$stamp" ] || [ ! -f "$DISTCLIP_DLL" ] || [ -n "$(find "$root" \( -name bin -o -name obj -o -name .git -o -name .build \) -prune -o \
        \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.sln' -o -name '*.conf' \) -newer "$stamp" -print -quit)" ]; then
    echo "distclip: building (Release)..." >&2
    dotnet build "$root/DistClip.sln" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
    touch "$stamp"
  fi
}
