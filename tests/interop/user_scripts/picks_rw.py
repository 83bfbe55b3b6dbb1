"""Read and write picks: numpy round trips, points/store, refresh between two roots, delete.

python picks_rw.py CONFIG_PATH
"""

import sys
import warnings

import numpy as np

import copick
from copick.models import CopickLocation, CopickPoint

root = copick.from_file(sys.argv[1])
run = root.get_run("TS_001")
picks = run.get_picks("proteasome", "alice", "1")[0]
pos, mats = picks.numpy()
print(pos.shape, mats.shape, pos.dtype, np.round(pos[:2], 6).tolist())
print(picks.instance_ids().tolist(), np.round(picks.scores(), 6).tolist())
print(np.round(picks.full_positions()[:2], 6).tolist())
print(picks.points[1].transformation.shape, picks.points[1].transformation_[0])

# write with from_numpy, read back through a second root
new = run.new_picks("ribosome", "5", user_id="scripter")
print(new, new.points, new.numpy()[0].shape, new.numpy()[1].shape)
positions = [[10.0, 20.0, 30.0], [40.5, 50.25, 60.125]]
transforms = np.stack([np.eye(4), np.eye(4)])
transforms[1, :3, 3] = [1.0, -2.0, 0.5]
new.from_numpy(positions, transforms, instance_ids=np.array([3, 4]), scores=np.array([0.25, 0.75]))
print(new)
other = copick.from_file(sys.argv[1])
seen = other.get_run("TS_001").get_picks(object_name="ribosome", user_id="scripter")
print(len(seen), seen[0].numpy()[0].tolist(), seen[0].full_positions().tolist())
print(seen[0].instance_ids().tolist(), seen[0].scores().tolist(), seen[0].meta.run_name)

# points + store, then refresh semantics between two roots
new.points = [*new.points, CopickPoint(location=CopickLocation(x=1, y=2, z=3), score=0.5)]
print(len(new.points), len(seen[0].points))
new.store()
print(len(seen[0].points))
seen[0].refresh()
print(len(seen[0].points))
other_run = other.get_run("TS_001")
before = len(other_run.picks)
run.new_picks("membrane", "5", user_id="scripter").from_numpy(np.zeros((0, 3)))
print(before, len(other_run.picks))
other_run.refresh_picks()
print(len(other_run.picks))

# errors (categories only: our messages differ on purpose, README difference 11)
for label, call in [
    ("no user", lambda: run.new_picks("ribosome", "9")),
    ("duplicate", lambda: run.new_picks("ribosome", "5", user_id="scripter")),
    ("unknown object", lambda: run.new_picks("nope", "5", user_id="scripter")),
    ("session not str", lambda: run.new_picks("ribosome", 5, user_id="scripter")),
    ("bad lengths", lambda: new.from_numpy(np.zeros((2, 3)), np.stack([np.eye(4)] * 3))),
    ("negative id", lambda: new.from_numpy(np.zeros((1, 3)), instance_ids=np.array([-1]))),
]:
    try:
        call()
        print(label, "ok")
    except Exception as exc:
        print(label, [c.__name__ for c in (ValueError, TypeError, PermissionError) if isinstance(exc, c)])
print(run.new_picks("ribosome", "5", user_id="scripter", exist_ok=True) is new)

# names are sanitised with a UserWarning, not rejected (API.md behaviour 21)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    odd = run.new_picks("ribosome", "s 1", user_id="me_you")
print(odd.user_id, odd.session_id, sorted({w.category.__name__ for w in caught}))
print(sorted((p.user_id, p.session_id) for p in run.get_picks(object_name="ribosome")))
odd.delete()

# delete
new.delete()
print(len(run.get_picks(user_id="scripter")))
try:
    new.delete()
except FileNotFoundError:
    print("second delete: FileNotFoundError")
run.delete_picks(user_id="scripter")
print(len(run.get_picks(user_id="scripter")), len(copick.from_file(sys.argv[1]).get_run("TS_001").picks))
