"""A terminal browser of a copick project (textual): a lazily expanded tree and a details pane.

Tree: runs -> voxel spacings -> tomograms -> feature maps, and per run its picks, meshes and
segmentations; the project's pickable objects beside the runs. Children are listed when a node is first
expanded, so big projects open at once. ``launch_app`` is what ``copick browse`` runs.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static, Tree
from textual.widgets.tree import TreeNode

from copick.entities.base import shown_location
from copick.entities.run import run_folder

__all__ = ["CopickBrowser", "details_of", "launch_app", "portal_root"]

_PENDING = "…"


class PlainTree(Tree):
    """A tree whose string labels are plain text: names may contain ``[...]``, which is not markup."""

    def process_label(self, label: Any) -> Text:
        return Text(label) if isinstance(label, str) else super().process_label(label)


def _uri(obj: Any) -> str:
    from copick.util.uri import serialize_copick_uri

    try:
        return serialize_copick_uri(obj)
    except Exception:  # a URI is a convenience here, never a reason to fail
        return ""


def _location(obj: Any) -> str:
    try:
        return shown_location(obj)
    except Exception:  # a location is shown when known, never a reason to fail
        return ""


def details_of(kind: str, obj: Any) -> list[tuple[str, str]]:
    """Label/value rows describing one tree entry (what the details pane shows)."""
    if kind == "project":
        config = obj.config
        return [
            ("Project", str(config.name)),
            ("Description", str(config.description)),
            ("Pickable objects", str(len(obj.pickable_objects))),
            ("Runs", str(len(obj.runs))),
        ]
    if kind == "object":
        meta = obj.meta
        rows = [("Object", obj.name), ("Particle", str(obj.is_particle)), ("Label", str(obj.label))]
        rows += [("Color", str(list(obj.color)) if obj.color is not None else "-")]
        for field in ("emdb_id", "pdb_id", "identifier", "map_threshold", "radius"):
            value = getattr(meta, field)
            if value is not None:
                from copick.util.ontology import parse_identifier  # identifiers shown with their link

                link = parse_identifier(value, hint=field) if field.endswith(("_id", "identifier")) else None
                rows.append((field, f"{value} ({link.url})" if link else str(value)))
        return rows
    if kind == "run":
        return [
            ("Run", obj.name),
            ("Voxel spacings", ", ".join(str(vs.voxel_size) for vs in obj.voxel_spacings) or "-"),
            ("Pick sets", str(len(obj.picks))),
            ("Meshes", str(len(obj.meshes))),
            ("Segmentations", str(len(obj.segmentations))),
            ("Location", run_folder(obj)),
        ]
    if kind == "voxel_spacing":
        return [
            ("Voxel spacing", f"{obj.voxel_size} Å"),
            ("Run", obj.run.name),
            ("Tomograms", ", ".join(t.tomo_type for t in obj.tomograms) or "-"),
        ]
    if kind == "tomogram":
        return [
            ("Tomogram", obj.tomo_type),
            ("URI", _uri(obj)),
            ("Feature maps", ", ".join(f.feature_type for f in obj.features) or "-"),
            ("Read-only", str(obj.read_only)),
            ("Location", _location(obj)),
        ]
    if kind == "features":
        return [("Feature map", obj.feature_type), ("Tomogram", obj.tomo_type), ("URI", _uri(obj))]
    if kind == "picks":
        try:
            points = str(len(obj.numpy()[0]))
        except Exception as err:
            points = f"unreadable ({err})"
        return [
            ("Picks", obj.pickable_object_name),
            ("User", obj.user_id),
            ("Session", obj.session_id),
            ("Points", points),
            ("URI", _uri(obj)),
            ("Read-only", str(obj.read_only)),
            ("Location", _location(obj)),
        ]
    if kind == "mesh":
        return [
            ("Mesh", obj.pickable_object_name),
            ("User", obj.user_id),
            ("Session", obj.session_id),
            ("URI", _uri(obj)),
            ("Location", _location(obj)),
        ]
    if kind == "segmentation":
        return [
            ("Segmentation", obj.name),
            ("Type", obj.segmentation_type),
            ("User", obj.user_id),
            ("Session", obj.session_id),
            ("Voxel size", f"{obj.voxel_size} Å"),
            ("URI", _uri(obj)),
            ("Location", _location(obj)),
        ]
    return [("", "")]


class CopickBrowser(App):
    """Browse the runs, volumes and annotations of one project."""

    TITLE = "copick browse"
    CSS = """
    #tree { width: 45%; border: round $primary; }
    #details-pane { border: round $secondary; padding: 0 1; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("e", "expand_all_runs", "Expand runs"),
    ]

    def __init__(self, root: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.root = root
        self.shown: tuple[str, list[tuple[str, str]]] = ("", [])  # what the details pane displays

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield PlainTree(self._project_label(), data=("project", self.root), id="tree")
            with VerticalScroll(id="details-pane"):
                yield Static("", id="details")
        yield Footer()

    def _project_label(self) -> str:
        return f"📁 {self.root.config.name or 'copick project'}"

    def on_mount(self) -> None:
        self._fill_root()
        self.query_one(Tree).focus()
        self._show("project", self.root)

    def _fill_root(self) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.root.set_label(self._project_label())
        tree.root.expand()
        count = len(self.root.pickable_objects)
        objects = tree.root.add(f"Pickable objects ({count})", data=("folder", None))
        for obj in self.root.pickable_objects:
            objects.add_leaf(f"{obj.name} (label {obj.label})", data=("object", obj))
        runs = tree.root.add(f"Runs ({len(self.root.runs)})", data=("folder", None), expand=True)
        for run in self.root.runs:
            self._add_lazy(runs, run.name, ("run", run))

    # --- lazy children ----------------------------------------------------------------------------

    @staticmethod
    def _add_lazy(parent: TreeNode, label: str, data: tuple[str, Any]) -> TreeNode:
        node = parent.add(label, data=data)
        node.add_leaf(_PENDING, data=("pending", None))
        return node

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        children = list(node.children)
        if len(children) == 1 and children[0].data and children[0].data[0] == "pending":
            node.remove_children()
            self._fill(node)

    def _fill(self, node: TreeNode) -> None:
        kind, obj = node.data
        if kind == "run":
            spacings = node.add(f"Voxel spacings ({len(obj.voxel_spacings)})", data=("folder", None))
            for vs in obj.voxel_spacings:
                self._add_lazy(spacings, f"VoxelSpacing {vs.voxel_size}", ("voxel_spacing", vs))
            picks = node.add(f"Picks ({len(obj.picks)})", data=("folder", None))
            for p in obj.picks:
                picks.add_leaf(f"{p.pickable_object_name}:{p.user_id}/{p.session_id}", data=("picks", p))
            meshes = node.add(f"Meshes ({len(obj.meshes)})", data=("folder", None))
            for m in obj.meshes:
                meshes.add_leaf(f"{m.pickable_object_name}:{m.user_id}/{m.session_id}", data=("mesh", m))
            segs = node.add(f"Segmentations ({len(obj.segmentations)})", data=("folder", None))
            for s in obj.segmentations:
                label = f"{s.name}:{s.user_id}/{s.session_id}@{s.voxel_size} [{s.segmentation_type}]"
                segs.add_leaf(label, data=("segmentation", s))
        elif kind == "voxel_spacing":
            for tomo in obj.tomograms:
                if tomo.features:
                    self._add_lazy(node, f"Tomogram {tomo.tomo_type}", ("tomogram", tomo))
                else:
                    node.add_leaf(f"Tomogram {tomo.tomo_type}", data=("tomogram", tomo))
        elif kind == "tomogram":
            for feat in obj.features:
                node.add_leaf(f"Features {feat.feature_type}", data=("features", feat))

    # --- details ----------------------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            kind, obj = event.node.data
            self._show(kind, obj)

    def _show(self, kind: str, obj: Any) -> None:
        from rich.table import Table

        details = self.query_one("#details", Static)
        if obj is None:
            self.shown = (kind, [])
            details.update("")
            return
        table = Table(show_header=False, box=None, expand=True)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column(overflow="fold")
        try:
            rows = details_of(kind, obj)
        except Exception as err:
            rows = [("Error", f"{type(err).__name__}: {err}")]
        for label, value in rows:
            table.add_row(label, value)
        self.shown = (kind, rows)
        details.update(table)

    # --- actions ----------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Re-list the project (runs, objects) and rebuild the tree."""
        self.root.refresh()
        self._fill_root()

    def action_expand_all_runs(self) -> None:
        tree = self.query_one(Tree)
        for folder in tree.root.children:
            if str(folder.label).startswith("Runs"):
                for run_node in folder.children:
                    run_node.expand()


def portal_root(dataset_ids: Any) -> Any:
    """The project browsed for ``--dataset-ids``: the datasets over a per-user overlay (the browser
    writes nothing; the overlay keeps the portal metadata cache between sessions)."""
    from copick.ops.open import open_portal_for_reading

    return open_portal_for_reading(dataset_ids, "browse")


def launch_app(config_path: str | None = None, dataset_ids: Any = None, copick_root: Any = None) -> None:
    """Open the browser on a project given by config path, data-portal dataset ids or an opened root."""
    if copick_root is None:
        if dataset_ids:
            copick_root = portal_root(dataset_ids)
        elif config_path:
            from copick.ops.open import from_file

            copick_root = from_file(config_path)
        else:
            raise ValueError("launch_app needs config_path, dataset_ids or copick_root.")
    CopickBrowser(copick_root).run()
