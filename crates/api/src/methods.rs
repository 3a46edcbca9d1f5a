//! Which methods each known path serves, read from the API description, so that a known
//! path asked with another method answers `405` with `Allow` rather than `404`.

use serde_json::Value;

/// One path template: literal segments, and `None` for a `{parameter}`.
#[derive(Debug)]
struct Template {
    /// The template as the description writes it (`/api/v1/customers/{id}`).
    path: String,
    segments: Vec<Option<String>>,
    methods: Vec<String>,
}

impl Template {
    fn matches(&self, path: &[&str]) -> bool {
        self.segments.len() == path.len()
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(s, p)| s.as_deref().is_none_or(|lit| lit == *p))
    }
}

/// Every path the API serves, with its methods.
#[derive(Debug)]
pub struct KnownPaths(Vec<Template>);

/// Paths served outside the API description: the description itself and its viewer.
const UNDESCRIBED: &[(&str, &str)] = &[("/openapi.json", "GET"), ("/docs", "GET")];

fn split(path: &str) -> Vec<&str> {
    path.trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

impl KnownPaths {
    /// The paths and methods of an OpenAPI document.
    pub fn from_spec(spec: &Value) -> Self {
        let mut templates = Vec::new();
        if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let mut methods: Vec<String> = item
                    .as_object()
                    .into_iter()
                    .flat_map(|ops| ops.keys())
                    .filter(|m| ["get", "put", "post", "delete", "patch"].contains(&m.as_str()))
                    .map(|m| m.to_uppercase())
                    .collect();
                methods.sort_by_key(|m| {
                    ["GET", "POST", "PUT", "PATCH", "DELETE"]
                        .iter()
                        .position(|o| o == m)
                });
                templates.push(Template {
                    path: path.clone(),
                    segments: split(path)
                        .into_iter()
                        .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                        .collect(),
                    methods,
                });
            }
        }
        for (path, method) in UNDESCRIBED {
            templates.push(Template {
                path: (*path).to_owned(),
                segments: split(path)
                    .into_iter()
                    .map(|s| Some(s.to_owned()))
                    .collect(),
                methods: vec![(*method).to_owned()],
            });
        }
        Self(templates)
    }

    /// The `Allow` value for `path` when some template matches it; `None` for a path the
    /// API does not know. Where a literal path and a template overlap
    /// (`/customers/export` and `/customers/{id}`), the literal path is the one meant.
    pub fn allowed(&self, path: &str) -> Option<String> {
        self.literal(path).or_else(|| self.join(path, |_| true))
    }

    /// The `Allow` value for `path` if it is a literal path the API serves (no parameter
    /// in it): what a request gets when it named such a path with a method that a
    /// parameter template beside it would otherwise take (`PATCH /customers/export`).
    pub fn literal(&self, path: &str) -> Option<String> {
        self.join(path, |t| t.segments.iter().all(Option::is_some))
    }

    /// The template `path` is served by, as the router names it (the metric label and log
    /// field `route`), found without the router's regular expressions: a literal path
    /// before a template beside it. `None` for a path the description does not know, and
    /// for one the router would not take as it is (a trailing or doubled `/`).
    pub fn route(&self, path: &str) -> Option<&str> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = match rest {
            "" => Vec::new(),
            _ => rest.split('/').collect(),
        };
        if parts.contains(&"") {
            return None;
        }
        let mut found: Option<&Template> = None;
        for t in self.0.iter().filter(|t| t.matches(&parts)) {
            if t.segments.iter().all(Option::is_some) {
                return Some(&t.path);
            }
            found = found.or(Some(t));
        }
        found.map(|t| t.path.as_str())
    }

    fn join(&self, path: &str, keep: impl Fn(&Template) -> bool) -> Option<String> {
        let parts = split(path);
        let mut methods: Vec<&str> = Vec::new();
        for t in self.0.iter().filter(|t| keep(t) && t.matches(&parts)) {
            for m in &t.methods {
                if !methods.contains(&m.as_str()) {
                    methods.push(m);
                }
            }
        }
        (!methods.is_empty()).then(|| methods.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_paths_answer_their_methods() {
        let spec = json!({"paths": {
            "/api/v1/customers": {"get": {}, "post": {}},
            "/api/v1/customers/{id}": {"get": {}, "patch": {}, "delete": {}, "parameters": []},
            "/api/v1/customers/export": {"get": {}}
        }});
        let known = KnownPaths::from_spec(&spec);
        assert_eq!(
            known.allowed("/api/v1/customers").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(
            known.allowed("/api/v1/customers/abc").as_deref(),
            Some("GET, PATCH, DELETE")
        );
        assert_eq!(
            known.allowed("/api/v1/customers/export").as_deref(),
            Some("GET"),
            "a literal path is the one meant, not the parameter template beside it"
        );
        assert_eq!(known.literal("/api/v1/customers/abc"), None);
        assert_eq!(known.allowed("/api/v1/nothing"), None);
        assert_eq!(known.allowed("/api/v1/customers/a/b"), None);
        assert_eq!(known.allowed("/openapi.json").as_deref(), Some("GET"));
    }

    #[test]
    fn a_path_is_labelled_with_the_template_that_serves_it() {
        let spec = json!({"paths": {
            "/api/v1/customers": {"get": {}},
            "/api/v1/customers/{id}": {"get": {}},
            "/api/v1/customers/export": {"get": {}}
        }});
        let known = KnownPaths::from_spec(&spec);
        assert_eq!(known.route("/api/v1/customers"), Some("/api/v1/customers"));
        assert_eq!(
            known.route("/api/v1/customers/0192"),
            Some("/api/v1/customers/{id}")
        );
        assert_eq!(
            known.route("/api/v1/customers/export"),
            Some("/api/v1/customers/export")
        );
        assert_eq!(known.route("/openapi.json"), Some("/openapi.json"));
        for unknown in [
            "/api/v1/customers/",
            "/api/v1//customers",
            "/api/v1/customers/a/b",
            "api/v1/customers",
            "/",
        ] {
            assert_eq!(known.route(unknown), None, "{unknown}");
        }
    }
}
