"""Small helpers shared by the AppTest page tests."""


def elements(node, kind: str) -> list:
    """Elements of class ``kind`` (e.g. "Metric", "Image") under ``node``, in page order."""
    found = [node] if type(node).__name__ == kind else []
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else []:
        found += elements(child, kind)
    return found


def block(at, key: str):
    """The container that ``st.container(key=key)`` made."""
    for candidate in elements(at._tree, "Block"):
        if getattr(candidate, "key", None) == key:
            return candidate
    raise AssertionError(f"no container with key {key!r}")
