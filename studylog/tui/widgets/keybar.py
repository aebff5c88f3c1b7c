"""The footer of the app's own screens: the keys that apply now, in one widget.

Textual's ``Footer`` builds a widget per key and rebuilds them all whenever
the bindings change (every focus change, every screen switch); with the
fifteen or so keys of the Today screen that was a good part of the time of
switching screens on a busy machine. This bar draws the same information as
one line of text: the focused widget's keys first, then the screen's, then
the app's, each clickable, and ``^p Palette`` at the right end.
"""

from __future__ import annotations

from textual import events
from textual.app import RenderResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

PALETTE = " ^p Palette "  # at the right end, as Textual's footer has it


class KeyBar(Widget):
    """See the module docstring."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self.refresh()

    def _action(self, binding: Binding, node: object) -> str | None:
        """The click action with the namespace the binding belongs to."""
        action = binding.action
        if action.split(".", 1)[0] in ("app", "screen", "focused"):
            return action
        if node is self.app:
            return f"app.{action}"
        if node is self.screen:
            return f"screen.{action}"
        if node is self.app.focused:
            return f"focused.{action}"
        return None

    def items(self) -> list[tuple[Content, str | None]]:
        """(``key description``, click action) per action; a group's keys share one item."""
        entries: list[tuple[list[Content], Content, str | None]] = []
        seen_actions: set[str] = set()
        groups: dict[str, int] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            key_style = "bold $footer-key-foreground" if active.enabled else "$text-disabled"
            key = Content.styled(
                binding.key_display or self.app.get_key_display(binding), key_style
            )
            label = binding.group.description if binding.group else binding.description
            if binding.group is not None and label in groups:
                entries[groups[label]][0].append(key)  # another key of the group
                continue
            if binding.group is not None:
                groups[label] = len(entries)
            text = Content.styled(label, "$footer-description-foreground")
            entries.append(([key], text, self._action(binding, active.node)))
        return [(Content(" ").join([*keys, text]), action) for keys, text, action in entries]

    def render(self) -> RenderResult:
        width = self.size.width
        room = max(0, width - len(PALETTE) - 1)
        line = Content(" ")
        self._targets: list[tuple[int, int, str | None]] = []
        for item, action in self.items():
            if line.cell_length + item.cell_length > room:
                break
            start = line.cell_length
            line = line + item + Content("  ")
            self._targets.append((start, start + item.cell_length, action))
        pad = max(0, width - line.cell_length - len(PALETTE))
        palette = Content.assemble(
            (" ^p", "bold $footer-key-foreground"), (" Palette ", "$footer-description-foreground")
        )
        self._targets.append((width - len(PALETTE), width, "app.command_palette"))
        return line + Content(" " * pad) + palette

    async def on_click(self, event: events.Click) -> None:
        """Run the action of the clicked key, in its widget's namespace."""
        for start, end, action in getattr(self, "_targets", []):
            if start <= event.x < end and action:
                await self.run_action(action)
                return
