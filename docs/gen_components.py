"""Regenerate the component reference at the end of docs/flows.md from the registry."""

from pathlib import Path

from aqtra_nb.components import registry
from aqtra_nb.components.reference import type_name

MARKER = "<!-- components: generated -->"


def reference() -> str:
    lines = [MARKER, ""]
    for group in ("input", "transform", "script", "output"):
        lines.append(f"### {group.title()} components\n")
        for component in registry:
            if component.group != group:
                continue
            lines.append(f"#### `{component.name}`\n\n{component.summary()}\n")
            fields = component.Params.model_fields
            if fields:
                lines.append("| parameter | type | default | meaning |\n|---|---|---|---|")
                for name, field in fields.items():
                    default = (
                        "required"
                        if field.is_required()
                        else repr(field.get_default(call_default_factory=True))
                    )
                    kind = type_name(field.annotation).replace("|", "\\|")
                    lines.append(f"| `{name}` | `{kind}` | `{default}` | {field.description or ''} |")
                lines.append("")
    return "\n".join(lines)


def main() -> None:
    path = Path(__file__).with_name("flows.md")
    text = path.read_text()
    head = text.split(MARKER)[0].rstrip("\n") + "\n\n"
    path.write_text(head + reference())


if __name__ == "__main__":
    main()
