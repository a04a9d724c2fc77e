# Sourced by tests/run.sh and infra/local-loop.sh: makes sure .venv/ holds exactly the
# tools pinned in tests/requirements.txt, (re)installing them when that file changes.
# Sets $venv. Expects $root (the repository) to be set.

venv="$root/.venv"
requirements="$root/tests/requirements.txt"
stamp="$venv/.requirements.sha256"

python=${PYTHON:-python3}
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing the tools of tests/requirements.txt into .venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi
