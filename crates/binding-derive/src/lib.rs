//! `#[derive(OptionSet)]`: an options struct of the Node.js binding, declared once, gives its
//! strict reader.
//!
//! The struct is an ordinary `#[napi(object)]` struct (its fields and `///` docs give the
//! typings) whose fields are all `Option<T>`. The derive implements the binding's
//! `js::options::OptionSet` for it: the JS name of every field (napi's camelCase), a reader that
//! converts each known key with `T: FromJs` and reports unknown keys, the value given for a
//! field (for error messages) and the first option given. `#[option_set(what = "a circuit
//! breaker option")]` names one option in the unknown-key message.
//!
//! With `#[option_set(into = Target)]` it also implements `js::options::Merge<Target>`: each
//! option given sets the field of the same name of `Target` through `ToField` (the
//! conversion follows from the two types); `#[option(to = field)]` names another field,
//! `#[option(with = function)]` converts with `function(&value)`, `#[option(skip)]` leaves
//! the option out.
//!
//! A derive rather than a `macro_rules!` wrapper: `///` comments passed through a
//! `macro_rules!` become raw string literals, which napi's typings generator prints as `r"`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Field, Fields, Ident, LitStr, Path, Type};

/// Implements `js::options::OptionSet` for a struct of `Option` fields (see the crate docs).
#[proc_macro_derive(OptionSet, attributes(option_set, option))]
pub fn derive_option_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let (what, into) = set_attrs(input)?;
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
    let mut merges = Vec::new();
    for (field, ident) in fields.named.iter().zip(&idents) {
        let (skip, to, with) = field_attrs(field)?;
        let to = to.unwrap_or_else(|| ident.clone());
        let convert = match with {
            Some(with) => quote! { #with(value) },
            None => quote! { crate::js::options::ToField::to_field(value) },
        };
        if !skip {
            merges.push(quote! { if let Some(value) = &self.#ident { into.#to = #convert; } });
        }
    }
    let merge = into.map(|into| {
        quote! {
            impl crate::js::options::Merge<#into> for #name {
                fn merge(&self, into: &mut #into) {
                    #(#merges)*
                }
            }
        }
    });
    Ok(quote! {
        #merge

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
                        let at = crate::js::options::At::option(env, key);
                        let value = crate::js::options::FromJs::from_js(at, value)?;
                        self.#idents = Some(value);
                    })*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            fn received(&self, field: &str) -> Option<String> {
                match field {
                    #(#rust_names => self.#idents.as_ref().map(crate::js::options::FromJs::received),)*
                    _ => None,
                }
            }

            fn first_given(&self) -> Option<&'static str> {
                #(if self.#idents.is_some() { return Some(#js_names); })*
                None
            }
        }
    })
}

/// The `what` and `into` of `#[option_set(what = "...", into = Type)]`.
fn set_attrs(input: &DeriveInput) -> syn::Result<(LitStr, Option<Type>)> {
    let (mut what, mut into) = (None, None);
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("option_set"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("what") {
                what = Some(meta.value()?.parse::<LitStr>()?);
            } else if meta.path.is_ident("into") {
                into = Some(meta.value()?.parse::<Type>()?);
            } else {
                return Err(meta.error("expected `what = \"...\"` or `into = Type`"));
            }
            Ok(())
        })?;
    }
    let what = what.ok_or_else(|| {
        syn::Error::new_spanned(&input.ident, "add #[option_set(what = \"a ... option\")]")
    })?;
    Ok((what, into))
}

/// `skip`, `to` and `with` of a field's `#[option(..)]`.
fn field_attrs(field: &Field) -> syn::Result<(bool, Option<Ident>, Option<Path>)> {
    let (mut skip, mut to, mut with) = (false, None, None);
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("option")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
            } else if meta.path.is_ident("to") {
                to = Some(meta.value()?.parse::<Ident>()?);
            } else if meta.path.is_ident("with") {
                with = Some(meta.value()?.parse::<Path>()?);
            } else {
                return Err(meta.error("expected `skip`, `to = field` or `with = function`"));
            }
            Ok(())
        })?;
    }
    Ok((skip, to, with))
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
