//! The only places the app writes an element whose children are raw text.
//!
//! Leptos' renderer (tachys) escapes text children, except those of raw-text and
//! escapable-raw-text elements: `textarea`, `title`, `script`, `style` (and `leptos_meta`'s
//! `<Title>`, which writes its text into `<title>` as it is). Person-written text there ends the
//! element and runs: `</textarea><script>…` in a note. So a page never writes those elements
//! itself (a test, `raw_text_elements_only_here`, reads every source file of `app/src` to make
//! sure), and uses these components, which escape what they are given.

use leptos::prelude::*;
use leptos_meta::Title;

/// `text` with `&`, `<` and `>` as character references, for the inside of an element.
pub fn escape_text(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

/// The page's `<title>` (the shell adds " · Token Inventory"). The text may come from people or
/// from GitLab (a token's name).
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    // On the server `leptos_meta` copies the text into `<title>` as it is; in the browser it sets
    // `document.title`, which takes text, so the text is escaped for the server's HTML only.
    #[cfg(feature = "ssr")]
    let text = escape_text(&text);
    view! { <Title text /> }
}

/// The `<title>` of a page rendered without the app's router (`crate::answers`): a fixed text,
/// so nothing anyone wrote can reach it.
#[component]
pub fn FixedTitle(text: &'static str) -> impl IntoView {
    view! { <title>{format!("{text} · Token Inventory")}</title> }
}

/// Ends every page's title with the product's name.
#[component]
pub fn TitleSuffix() -> impl IntoView {
    view! { <Title formatter=|page: String| format!("{page} · Token Inventory") /> }
}

/// A `<textarea>` holding `value`. The value is written as escaped markup (`inner_html`), which
/// the HTML parser (server-rendered page) and the `innerHTML` setter (rendered in the browser)
/// both read back as the same plain text: in a textarea character references are decoded and
/// tags are not tags.
#[component]
pub fn TextArea(
    name: &'static str,
    #[prop(into)] value: String,
    #[prop(into)] class: String,
    rows: u32,
    maxlength: u32,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let markup = escape_text(&value);
    view! { <textarea id=id name=name class=class rows=rows maxlength=maxlength inner_html=markup></textarea> }
}

/// A `<tbody>` whose `rows` the renderer writes to HTML here, in one go, and the body takes as
/// its markup (`inner_html`). The markup is the renderer's own, with every text and attribute
/// escaped as anywhere else; only views without an island may come here (an island needs the
/// page's own rendering). A long table is cheaper so: rendered as part of the page, the
/// streaming renderer of a page that waits for its data takes the rows element by element, with
/// two buffers of their own each.
#[component]
pub fn RenderedRows<V: RenderHtml>(class: &'static str, rows: V) -> impl IntoView {
    let markup = rows.to_html();
    view! { <tbody class=class inner_html=markup></tbody> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_end_the_element() {
        assert_eq!(
            escape_text("</textarea><img src=x onerror=alert(1)> & \"q\""),
            "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt; &amp; \"q\""
        );
        assert_eq!(escape_text("plain words"), "plain words");
    }

    /// Every source file of the app writes `textarea`, `title`, `script`, `style` and
    /// `inner_html` only through this module: a page that writes one itself would put text there
    /// unescaped.
    #[test]
    fn raw_text_elements_only_here() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let forbidden = [
            "<textarea",
            "<title",
            "<Title",
            "leptos_meta::Title",
            "<script",
            "<Script",
            "<style",
            "<Style",
            "inner_html",
        ];
        let mut found = Vec::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("app/src is readable") {
                let path = entry.expect("a folder entry").path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("components/raw_text.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                for (number, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    // `<Title` but not `<TitleSuffix`, `<style` but not `<Stylesheet`.
                    let written = |word: &&str| {
                        code.match_indices(*word).any(|(at, _)| {
                            code[at + word.len()..]
                                .chars()
                                .next()
                                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
                        })
                    };
                    for word in forbidden.iter().filter(|word| written(word)) {
                        found.push(format!("{}:{}: {word}", path.display(), number + 1));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "raw-text elements written outside components/raw_text.rs (use PageTitle or TextArea):\n{}",
            found.join("\n")
        );
    }
}
