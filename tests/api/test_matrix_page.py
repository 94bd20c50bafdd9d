"""The matrix page: names apart from codes, a legend of the cell values, and a form that chooses the profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from service.actions.matrix import DECISION_LABELS
from service.api.schemas.policies import MatrixProfile
from tests.helpers import headers

PAGE = "/v1/policies/west-midlands/matrix.html"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text for child in self.children)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        """Every descendant with the tag and, for each keyword, that attribute value (class_ tests one class)."""
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            wanted_class = attrs.get("class_")
            others = {k: v for k, v in attrs.items() if k != "class_"}
            if (
                child.tag == tag
                and all(child.attrs.get(k) == v for k, v in others.items())
                and (wanted_class is None or wanted_class in child.classes)
            ):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def elements(self) -> list[Node]:
        return [child for child in self.children if not isinstance(child, str)]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], "every element is closed"
    return builder.root


def row_header(doc: Node, call_type: str) -> Node:
    (header,) = [th for th in doc.find_all("th", scope="row") if [c.text for c in th.find_all("code")] == [call_type]]
    return header


def test_names_and_codes_are_separate_elements(sqlite_client: TestClient) -> None:
    response = sqlite_client.get(PAGE, headers=headers("planner"))
    assert response.status_code == 200
    doc = parse(response.text)
    violence = row_header(doc, "violence.in_progress")
    assert [(e.tag, e.text) for e in violence.elements()] == [("span", "Violence in progress"), ("code", "violence.in_progress")]
    # Read as text (a copy, a screen reader), the name and the code do not run together.
    assert violence.text == "Violence in progress violence.in_progress"
    assert "Violence in progressviolence.in_progress" not in response.text
    columns = doc.find_all("thead")[0].find_all("th", scope="col")
    assert columns[0].text == "Call type"
    tasks = sqlite_client.get("/v1/policies/west-midlands/tasks", headers=headers("planner")).json()
    assert [[(e.tag, e.text) for e in th.elements()] for th in columns[1:]] == [
        [("span", task["name"]), ("code", task["code"])] for task in tasks
    ]
    first_cell = doc.find_all("tbody")[0].find_all("td")[0]
    assert [e.tag for e in first_cell.elements()] == ["span", "small"] and " " in first_cell.text


def test_the_legend_explains_each_cell_value_in_the_cells_colours(sqlite_client: TestClient) -> None:
    response = sqlite_client.get(PAGE, params={"phase": "scene_secured"}, headers=headers("planner"))
    doc = parse(response.text)
    (legend,) = doc.find_all("ul", class_="legend")
    items = legend.find_all("li")
    decisions = ["deploy", "deploy_with_conditions", "refer_to_supervisor", "do_not_deploy"]
    assert [item.find_all("code")[0].text for item in items] == decisions
    for item, decision in zip(items, decisions, strict=True):
        (swatch,) = item.find_all("span", class_="swatch")
        assert swatch.classes == {"swatch", decision} and swatch.text == DECISION_LABELS[decision]
        assert len(item.text) > len(DECISION_LABELS[decision]) + len(decision) + 10, "each value is explained"
    # The cells use the same class (the colour) and the same words as the legend.
    cells = doc.find_all("td")
    assert {cell.attrs["class"] for cell in cells} <= set(decisions)
    assert {cell.elements()[0].text for cell in cells} <= set(DECISION_LABELS.values())
    assert {cell.attrs["class"] for cell in cells} >= {"deploy", "deploy_with_conditions", "do_not_deploy"}
    style = doc.find_all("style")[0].text
    assert all(f".{decision} {{ background:" in style for decision in decisions)
    (shown,) = doc.find_all("p", id="profile-shown")
    assert "training status independent; in uniform; not an authorised driver; not cycle trained" in shown.text
    assert "designated powers: none" in shown.text and "scene secured" in shown.text and "location risk low, urban" in shown.text


def test_the_form_has_every_query_field_with_the_current_values_chosen(sqlite_client: TestClient) -> None:
    chosen = {
        "phase": "recent",
        "training_status": "coaching",
        "in_uniform": "false",
        "authorised_driver": "true",
        "cycle_trained": "true",
        "risk_level": "medium",
        "setting": "rural",
        "powers": ["traffic.direct", "dispersal_direction"],
    }
    response = sqlite_client.get(PAGE, params=chosen, headers=headers("planner"))
    assert response.status_code == 200, response.text
    doc = parse(response.text)
    (form,) = doc.find_all("form")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "matrix.html"
    assert not doc.find_all("script") and "http" not in response.text.split("<body>", 1)[1].lower()
    selects = {select.attrs["name"]: select for select in form.find_all("select")}
    checkboxes = form.find_all("input", type="checkbox")
    assert set(selects) | {box.attrs["name"] for box in checkboxes} == set(MatrixProfile.model_fields)
    assert {box.attrs["name"] for box in checkboxes} == {"powers"}
    selected = {}
    for name, select in selects.items():
        options = select.find_all("option")
        picked = [option.attrs["value"] for option in options if "selected" in option.attrs]
        assert len(picked) == 1, name
        selected[name] = picked[0]
        labels = [label for label in form.find_all("label") if select in label.elements()]
        assert len(labels) == 1 and labels[0].text.strip(), f"{name} has a label"
    assert selected == {k: v for k, v in chosen.items() if k != "powers"}
    powers = sqlite_client.get("/v1/policies/west-midlands/powers", headers=headers("planner")).json()["powers"]
    assert [box.attrs["value"] for box in checkboxes] == [power["code"] for power in powers]
    assert sorted(box.attrs["value"] or "" for box in checkboxes if "checked" in box.attrs) == sorted(chosen["powers"])
    (button,) = form.find_all("button")
    assert button.attrs["type"] == "submit" and "name" not in button.attrs, "the button adds no query parameter"
    # What the form sends as it stands is accepted and shows the same profile.
    sent: dict[str, str | list[str]] = {
        **selected,
        "powers": [b.attrs["value"] or "" for b in checkboxes if "checked" in b.attrs],
    }
    again = sqlite_client.get("/v1/policies/west-midlands/matrix", params=sent, headers=headers("planner"))
    assert again.status_code == 200
    assert again.json()["profile"] == {**selected, "in_uniform": False, "authorised_driver": True, "cycle_trained": True} | {
        "powers": ["dispersal_direction", "traffic.direct"]
    }


def test_the_defaults_are_chosen_when_the_query_is_empty(sqlite_client: TestClient) -> None:
    doc = parse(sqlite_client.get(PAGE, headers=headers("planner")).text)
    defaults = MatrixProfile()
    for name in ("phase", "training_status", "risk_level", "setting"):
        (select,) = doc.find_all("select", name=name)
        assert [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs] == [getattr(defaults, name)]
    for name in ("in_uniform", "authorised_driver", "cycle_trained"):
        (select,) = doc.find_all("select", name=name)
        expected = "true" if getattr(defaults, name) else "false"
        assert [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs] == [expected]
    assert not [box for box in doc.find_all("input", type="checkbox") if "checked" in box.attrs]
