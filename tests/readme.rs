//! The models page's table (docs/models.md) is the catalog's: `pixbatch models --format markdown`.

#[test]
fn the_models_page_lists_the_catalog_as_it_is() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/models.md")).expect("docs/models.md");
    let start = readme.find("<!-- models table:").expect("the table's start marker");
    let after = &readme[start..];
    let body = &after[after.find('\n').expect("marker line") + 1..];
    let end = body.find("\n¹ ").expect("the table's footnote");
    let table = &body[..end + 1];
    assert_eq!(
        table,
        pixbatch::views::models::markdown() + "\n" + &pixbatch::views::image_models::markdown(),
        "docs/models.md's models table is stale: paste `pixbatch models --format markdown` over it"
    );
    for model in pixbatch::catalog::models() {
        assert!(table.contains(&format!("`{}`", model.id)), "{} is missing", model.id);
    }
    for model in pixbatch::catalog::images::image_models() {
        assert!(table.contains(&format!("`{}`", model.id)), "{} is missing", model.id);
    }
}
