//! `#[derive(OptionSet)]`: an options struct of the Node.js binding, declared once, gives its
//! strict reader.
//!
//! The struct is an ordinary `#[napi(object)]` struct (its fields and `///` docs give the
//! typings) whose fields are all `Option<T>`. The derive implements the binding's
//! `js::options::OptionSet` for it: the JS name of every field (napi's camelCase), a reader that
//! converts each known key with `T: FromJs` and reports unknown keys, and the value given for
//! a field, for error messages. `#[option_set(what = "a circuit breaker option")]` names one
//! option in the unknown-key message.
//!
//! A derive rather than a `macro_rules!` wrapper: `///` comments passed through a
//! `macro_rules!` become raw string literals, which napi's typings generator prints as `r"`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

/// Implements `js::options::OptionSet` for a struct of `Option` fields (see the crate docs).
#[proc_macro_derive(OptionSet, attributes(option_set))]
pub fn derive_option_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let what = what(input)?;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "OptionSet is derived for structs",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "OptionSet needs named fields",
        ));
    };
    let idents: Vec<_> = fields
        .named
        .iter()
        .filter_map(|f| f.ident.clone())
        .collect();
    let rust_names: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let js_names: Vec<String> = rust_names.iter().map(|n| camel_case(n)).collect();
    let keys = js_names.join(", ");
    Ok(quote! {
        impl crate::js::options::OptionSet for #name {
            const WHAT: &'static str = #what;

            fn keys() -> String {
                #keys.to_string()
            }

            fn read_key(
                &mut self,
                env: &napi::Env,
                key: &str,
                value: napi::Unknown<'_>,
            ) -> napi::Result<bool> {
                match key {
                    #(#js_names => {
                        let value = crate::js::options::FromJs::from_js(env, key, value)?;
                        self.#idents = Some(value);
                    })*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            fn received(&self, field: &str) -> Option<String> {
                match field {
                    #(#rust_names => self.#idents.as_ref().map(crate::js::options::Received::received),)*
                    _ => None,
                }
            }
        }
    })
}

/// The `what` of `#[option_set(what = "...")]`.
fn what(input: &DeriveInput) -> syn::Result<LitStr> {
    let mut what = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("option_set"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("what") {
                what = Some(meta.value()?.parse::<LitStr>()?);
                Ok(())
            } else {
                Err(meta.error("expected `what = \"...\"`"))
            }
        })?;
    }
    what.ok_or_else(|| {
        syn::Error::new_spanned(&input.ident, "add #[option_set(what = \"a ... option\")]")
    })
}

/// `failure_threshold` as `failureThreshold`, as napi spells fields in the typings (a field
/// with a digit before a letter is spelled differently by napi: give it `#[napi(js_name)]`
/// with this spelling).
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
