# JupyterHub for an ecrlab workshop on one machine: one JupyterLab per attendee, each in its own directory.
#
#   pip install -e '.[workshop]' && npm install -g configurable-http-proxy
#   export ECRLAB_WORKSHOP_PASSWORD=...   # the password you give the room (8+ characters)
#   export ECRLAB_INSTRUCTOR_PASSWORD=... # yours, for the `instructor` account (32+ characters)
#   jupyterhub -f workshop/jupyterhub_config.py
#
# Attendees open http://<this machine>:8000, pick any username and type the room's password. See
# docs/workshops.md for what this isolates (and what it does not), capacity, and the instructor's view.
#
# Settings come from the environment so that one file serves the day and the tests:
#   ECRLAB_HUB_URL          where the hub listens (default http://127.0.0.1:8000; the machine's address for a
#                           room, behind a TLS-terminating proxy when the network is not trusted)
#   ECRLAB_HUB_API_PORT     the hub's internal API port (default 8081), ECRLAB_PROXY_API_PORT the proxy's (8001)
#   ECRLAB_WORKSHOP_DIR     the hub's database, cookie secret and attendees' homes (default workshop/state)
#   ECRLAB_HUB_ADMIN_TOKEN  optional: a token for scripts that create attendees and start servers (the tests do)
import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - JupyterHub's config loader defines it

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
STATE = Path(os.environ.get("ECRLAB_WORKSHOP_DIR", HERE / "state")).resolve()
STATE.mkdir(parents=True, exist_ok=True)

HUB_URL = os.environ.get("ECRLAB_HUB_URL", "http://127.0.0.1:8000").rstrip("/")
c.JupyterHub.bind_url = HUB_URL + "/"
# Attendees' servers learn the public address from this (the instructor's view reaches servers through it).
c.JupyterHub.public_url = HUB_URL + "/"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{int(os.environ.get('ECRLAB_HUB_API_PORT', '8081'))}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('ECRLAB_PROXY_API_PORT', '8001'))}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")

# A workshop login: any username with the room's password; the instructor has their own password.
INSTRUCTORS = {"instructor"}
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ.get("ECRLAB_WORKSHOP_PASSWORD", "")
c.SharedPasswordAuthenticator.admin_password = os.environ.get("ECRLAB_INSTRUCTOR_PASSWORD", "")
c.Authenticator.admin_users = INSTRUCTORS
c.Authenticator.allow_all = True

# One process per attendee, run as the hub's Unix user in its own home: $HOME, the working directory, the
# lessons' copies, the recorded progress and every kernel (hence every ecrlab sandbox) are the attendee's own.
# It is not a security boundary between attendees (same Unix user): see docs/workshops.md.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab/tree/notebooks/00-start-here.ipynb"
c.Spawner.environment = {
    "ECRLAB_MODE": "sandbox",  # a hub's kernels never reach AWS, whatever the machine's credentials
    # visible in the attendee's file browser (so they can see what is recorded) and readable by the
    # instructor's view through the server's contents API, which serves no hidden paths
    "ECRLAB_PROGRESS_DIR": lambda spawner: os.path.join(spawner.home_dir, "ecrlab-progress"),
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
# An idle kernel holds its sandbox in memory: stop kernels idle for 30 minutes and servers idle for 2 hours.
c.Spawner.args = [
    "--MappingKernelManager.cull_idle_timeout=1800",
    "--MappingKernelManager.cull_interval=300",
    "--ServerApp.shutdown_no_activity_timeout=7200",
]
if os.geteuid() == 0:
    # Jupyter refuses to run as root unless told; a hub run as root (a container, a CI job) runs servers as root
    c.Spawner.args.append("--allow-root")
# Starting a server costs a few CPU-seconds: a room that logs in at once is let in a few per core at a time
# (the others are told to retry) rather than all starving each other and the kernels already running.
c.JupyterHub.concurrent_spawn_limit = 2 * (os.cpu_count() or 2)


def copy_lessons(spawner):
    """Give each attendee their own copy of the lessons on first start (never overwriting their edits)."""
    home = Path(spawner.home_dir)
    target = home / "notebooks"
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(CHECKOUT / "notebooks", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


c.Spawner.pre_spawn_hook = copy_lessons

# What the instructor's view needs, and no more: list attendees and read files through their servers.
INSTRUCTOR_SCOPES = ["list:users", "read:users:name", "read:servers", "access:servers"]


def server_token_scopes(spawner):
    """The instructor's own server gets a token that can collect progress (JupyterHub's defaults otherwise)."""
    scopes = ["access:servers!server", "users:activity!user"]
    return scopes + INSTRUCTOR_SCOPES if spawner.user.name in INSTRUCTORS else scopes


c.Spawner.server_token_scopes = server_token_scopes
roles = [{"name": "instructor", "scopes": INSTRUCTOR_SCOPES, "users": sorted(INSTRUCTORS)}]
services = []
if os.environ.get("ECRLAB_HUB_ADMIN_TOKEN"):
    services.append({"name": "workshop-admin", "api_token": os.environ["ECRLAB_HUB_ADMIN_TOKEN"]})
    roles.append(
        {
            "name": "workshop-admin",
            "scopes": ["admin:users", "admin:servers", "admin:server_state", "tokens", "access:servers"],
            "services": ["workshop-admin"],
        }
    )
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles
