//! The tokenizer of a GGUF file, rebuilt from its `tokenizer.ggml.*`
//! metadata (GGUF files rarely ship beside a `tokenizer.json`), and the byte
//! string of every token, which the JSON constraint needs.
//!
//! Two tokenizer models are understood, as llama.cpp names them: `gpt2`
//! (byte-level BPE with merges: SmolLM, Qwen, Llama 3) and `llama`
//! (SentencePiece BPE with scores and byte fallback: Llama 2, Mistral, Gemma).

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::normalizers::{Prepend, Replace};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, NormalizerWrapper, SplitDelimiterBehavior, Tokenizer};

use crate::LlmError;

/// `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`).
const TYPE_NORMAL: i64 = 1;
const TYPE_CONTROL: i64 = 3;
const TYPE_USER_DEFINED: i64 = 4;
const TYPE_BYTE: i64 = 6;

/// SentencePiece's visible space.
const SPM_SPACE: char = '\u{2581}';

/// Pre-tokenizer regexes of llama.cpp's `tokenizer.ggml.pre` families, as
/// the original `tokenizer.json` files spell them.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Strings that end a chat turn in the common templates; any of them that is
/// a single token of the vocabulary stops free-text generation.
const END_OF_TURN: [&str; 6] = [
    "<|im_end|>",
    "<end_of_turn>",
    "<|eot_id|>",
    "<|endoftext|>",
    "<|end|>",
    "</s>",
];

/// How a vocabulary spells bytes in its token strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    /// GPT-2 byte-to-unicode mapping (`Ġ` is a space).
    ByteLevel,
    /// SentencePiece: `▁` is a space, `<0x0A>` a raw byte.
    SentencePiece,
}

/// The tokenizer plus what generation needs to know about its tokens.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    pub(crate) tokenizer: Tokenizer,
    /// Bytes each token id stands for; empty for control tokens, which the
    /// JSON constraint never emits.
    token_bytes: Vec<Box<[u8]>>,
    stop_ids: Vec<u32>,
    bos: Option<(u32, String)>,
    eos_text: Option<String>,
    add_bos: bool,
}

impl Vocabulary {
    /// Rebuilds the tokenizer from GGUF metadata.
    pub(crate) fn from_gguf(metadata: &HashMap<String, Value>) -> Result<Self, String> {
        let model = string(metadata, "tokenizer.ggml.model")
            .ok_or("no tokenizer.ggml.model in the GGUF metadata")?;
        let tokens = string_array(metadata, "tokenizer.ggml.tokens")?;
        let types = match metadata.get("tokenizer.ggml.token_type") {
            Some(Value::Array(values)) => values.iter().map(|v| integer(v).unwrap_or(1)).collect(),
            _ => vec![TYPE_NORMAL; tokens.len()],
        };
        if types.len() != tokens.len() {
            return Err(
                "tokenizer.ggml.token_type and tokenizer.ggml.tokens differ in length".into(),
            );
        }
        let (tokenizer, spelling) = match model {
            "gpt2" => (
                byte_level_bpe(metadata, &tokens, &types)?,
                Spelling::ByteLevel,
            ),
            "llama" => (
                sentencepiece_bpe(metadata, &tokens, &types)?,
                Spelling::SentencePiece,
            ),
            other => {
                return Err(format!(
                    "unsupported tokenizer model `{other}` (supported: gpt2, llama); pass a tokenizer.json"
                ));
            }
        };
        let token_bytes = tokens
            .iter()
            .zip(&types)
            .map(|(token, &kind)| token_text_bytes(token, kind, spelling))
            .collect();
        let default_add_bos = spelling == Spelling::SentencePiece;
        Ok(Self::finish(
            tokenizer,
            token_bytes,
            metadata,
            default_add_bos,
        ))
    }

    /// Loads `tokenizer.json`, taking special token ids from the GGUF metadata.
    pub(crate) fn from_tokenizer_json(
        path: &Path,
        metadata: &HashMap<String, Value>,
    ) -> Result<Self, String> {
        let tokenizer = Tokenizer::from_file(path).map_err(|e| e.to_string())?;
        let spelling = match tokenizer.get_decoder() {
            Some(DecoderWrapper::ByteLevel(_)) => Spelling::ByteLevel,
            Some(DecoderWrapper::Sequence(seq))
                if seq
                    .get_decoders()
                    .iter()
                    .any(|d| matches!(d, DecoderWrapper::ByteLevel(_))) =>
            {
                Spelling::ByteLevel
            }
            _ => Spelling::SentencePiece,
        };
        let special: HashMap<u32, bool> = tokenizer
            .get_added_tokens_decoder()
            .iter()
            .map(|(id, token)| (*id, token.special))
            .collect();
        let size = u32::try_from(tokenizer.get_vocab_size(true)).unwrap_or(u32::MAX);
        let token_bytes = (0..size)
            .map(|id| {
                let kind = match special.get(&id) {
                    Some(true) => TYPE_CONTROL,
                    Some(false) => TYPE_USER_DEFINED,
                    None => TYPE_NORMAL,
                };
                match tokenizer.id_to_token(id) {
                    Some(token) => token_text_bytes(&token, kind, spelling),
                    None => Box::default(),
                }
            })
            .collect();
        Ok(Self::finish(tokenizer, token_bytes, metadata, false))
    }

    fn finish(
        tokenizer: Tokenizer,
        token_bytes: Vec<Box<[u8]>>,
        metadata: &HashMap<String, Value>,
        default_add_bos: bool,
    ) -> Self {
        let id_text = |key: &str| {
            let id = metadata.get(key).and_then(integer)?;
            let id = u32::try_from(id).ok()?;
            Some((id, tokenizer.id_to_token(id)?))
        };
        let bos = id_text("tokenizer.ggml.bos_token_id");
        let eos = id_text("tokenizer.ggml.eos_token_id");
        let mut stop_ids: Vec<u32> = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"]
            .iter()
            .filter_map(|key| id_text(key).map(|(id, _)| id))
            .chain(END_OF_TURN.iter().filter_map(|t| tokenizer.token_to_id(t)))
            .collect();
        stop_ids.sort_unstable();
        stop_ids.dedup();
        let add_bos = match metadata.get("tokenizer.ggml.add_bos_token") {
            Some(Value::Bool(b)) => *b,
            _ => default_add_bos,
        };
        Self {
            tokenizer,
            token_bytes,
            stop_ids,
            bos,
            eos_text: eos.map(|(_, text)| text),
            add_bos,
        }
    }

    /// Token ids of a rendered prompt, with BOS prepended when the model wants
    /// it and the chat template did not write it.
    pub(crate) fn encode_prompt(&self, prompt: &str) -> Result<Vec<u32>, LlmError> {
        let encoding = self
            .tokenizer
            .encode(prompt, false)
            .map_err(|e| LlmError::Backend(format!("tokenizer: {e}")))?;
        let mut ids = encoding.get_ids().to_vec();
        if let Some((bos, _)) = &self.bos
            && self.add_bos
            && ids.first() != Some(bos)
        {
            ids.insert(0, *bos);
        }
        Ok(ids)
    }

    /// Text of generated ids, control tokens dropped.
    pub(crate) fn decode(&self, ids: &[u32]) -> Result<String, LlmError> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| LlmError::Backend(format!("tokenizer: {e}")))
    }

    /// Number of tokens `bytes` would take (an estimate when not UTF-8).
    pub(crate) fn count_tokens(&self, bytes: &[u8]) -> usize {
        match std::str::from_utf8(bytes) {
            Ok(text) => self
                .tokenizer
                .encode(text, false)
                .map_or(bytes.len(), |e| e.get_ids().len()),
            Err(_) => bytes.len(),
        }
    }

    /// The bytes `id` stands for; empty for control tokens and unknown ids.
    pub(crate) fn token_bytes(&self, id: u32) -> &[u8] {
        self.token_bytes
            .get(id as usize)
            .map_or(&[][..], |b| &b[..])
    }

    /// Ids that end a free-text answer (EOS and end-of-turn tokens).
    pub(crate) fn is_stop(&self, id: u32) -> bool {
        self.stop_ids.binary_search(&id).is_ok()
    }

    /// Text of the BOS token, for chat templates that write it.
    pub(crate) fn bos_text(&self) -> Option<&str> {
        self.bos.as_ref().map(|(_, t)| t.as_str())
    }

    /// Text of the EOS token, for chat templates that write it.
    pub(crate) fn eos_text(&self) -> Option<&str> {
        self.eos_text.as_deref()
    }
}

/// Byte-level BPE (`tokenizer.ggml.model = gpt2`).
fn byte_level_bpe(
    metadata: &HashMap<String, Value>,
    tokens: &[&str],
    types: &[i64],
) -> Result<Tokenizer, String> {
    let merges = string_array(metadata, "tokenizer.ggml.merges")?
        .into_iter()
        .filter_map(|m| m.split_once(' '))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab(tokens), merges)
        .build()
        .map_err(|e| format!("BPE model: {e}"))?;
    let mut tokenizer = Tokenizer::new(bpe);
    let byte_level = ByteLevel::new(false, true, true);
    // `tokenizer.ggml.pre` names llama.cpp's pre-tokenizer family; each maps
    // back to the pre-tokenizer of the original `tokenizer.json`.
    let pre: PreTokenizerWrapper = match string(metadata, "tokenizer.ggml.pre").unwrap_or("default")
    {
        "smollm" | "starcoder" | "refact" | "codeshell" => {
            tokenizers::pre_tokenizers::sequence::Sequence::new(vec![
                Digits::new(true).into(),
                byte_level.into(),
            ])
            .into()
        }
        "llama3" | "llama-bpe" | "smaug-bpe" => split_then_bytes(LLAMA3_SPLIT)?,
        "qwen2" | "deepseek-r1-qwen" => split_then_bytes(QWEN2_SPLIT)?,
        _ => byte_level.into(),
    };
    tokenizer.with_pre_tokenizer(Some(pre));
    tokenizer.with_decoder(Some(ByteLevel::default()));
    tokenizer
        .add_special_tokens(added_tokens(tokens, types))
        .map_err(|e| format!("special tokens: {e}"))?;
    Ok(tokenizer)
}

fn split_then_bytes(pattern: &str) -> Result<PreTokenizerWrapper, String> {
    let split = Split::new(
        SplitPattern::Regex(pattern.to_owned()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(|e| format!("pre-tokenizer regex: {e}"))?;
    Ok(tokenizers::pre_tokenizers::sequence::Sequence::new(vec![
        split.into(),
        ByteLevel::new(false, true, false).into(),
    ])
    .into())
}

/// SentencePiece BPE (`tokenizer.ggml.model = llama`). GGUF keeps scores, not
/// merges: the merges are rebuilt the way `transformers` converts a
/// SentencePiece model (every split of a piece into two known pieces, ranked
/// by the score of the merged piece).
fn sentencepiece_bpe(
    metadata: &HashMap<String, Value>,
    tokens: &[&str],
    types: &[i64],
) -> Result<Tokenizer, String> {
    let scores: Vec<f32> = match metadata.get("tokenizer.ggml.scores") {
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| match v {
                Value::F32(f) => *f,
                _ => 0.0,
            })
            .collect(),
        // Without scores, the vocabulary order is the merge order.
        _ => (0..tokens.len()).map(|i| -(i as f32)).collect(),
    };
    let normal: HashMap<&str, usize> = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| types.get(*i) == Some(&TYPE_NORMAL))
        .map(|(i, t)| (*t, i))
        .collect();
    let mut ranked: Vec<(f32, usize, usize)> = Vec::new();
    for (&piece, &merged) in &normal {
        for (split, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(split);
            if let (Some(&l), Some(&r)) = (normal.get(left), normal.get(right)) {
                ranked.push((scores.get(merged).copied().unwrap_or(0.0), l, r));
            }
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let merges = ranked
        .into_iter()
        .filter_map(|(_, l, r)| Some((tokens.get(l)?.to_string(), tokens.get(r)?.to_string())))
        .collect();
    let unk = metadata
        .get("tokenizer.ggml.unknown_token_id")
        .and_then(integer)
        .and_then(|id| tokens.get(usize::try_from(id).ok()?))
        .map_or("<unk>", |t| *t);
    let bpe = BPE::builder()
        .vocab_and_merges(vocab(tokens), merges)
        .unk_token(unk.to_owned())
        .byte_fallback(true)
        .fuse_unk(true)
        .build()
        .map_err(|e| format!("BPE model: {e}"))?;
    let add_space_prefix = match metadata.get("tokenizer.ggml.add_space_prefix") {
        Some(Value::Bool(b)) => *b,
        _ => true,
    };
    let mut normalizers: Vec<NormalizerWrapper> = Vec::new();
    if add_space_prefix {
        normalizers.push(Prepend::new(SPM_SPACE.to_string()).into());
    }
    normalizers.push(space_to_spm(" ", &SPM_SPACE.to_string())?.into());
    let mut decoders: Vec<DecoderWrapper> = vec![
        space_to_spm(&SPM_SPACE.to_string(), " ")?.into(),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ];
    if add_space_prefix {
        decoders.push(Strip::new(' ', 1, 0).into());
    }
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer
        .with_normalizer(Some(tokenizers::normalizers::Sequence::new(normalizers)))
        .map_err(|e| format!("normalizer: {e}"))?;
    tokenizer.with_decoder(Some(tokenizers::decoders::sequence::Sequence::new(
        decoders,
    )));
    tokenizer
        .add_special_tokens(added_tokens(tokens, types))
        .map_err(|e| format!("special tokens: {e}"))?;
    Ok(tokenizer)
}

fn space_to_spm(from: &str, to: &str) -> Result<Replace, String> {
    Replace::new(from, to).map_err(|e| format!("normalizer: {e}"))
}

fn vocab(tokens: &[&str]) -> Vocab {
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| ((*t).to_owned(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect()
}

/// Control and user-defined tokens are matched whole before the model runs
/// (`<|im_start|>` must be one id, never `<`, `|`, `im`, …).
fn added_tokens(tokens: &[&str], types: &[i64]) -> Vec<AddedToken> {
    tokens
        .iter()
        .zip(types)
        .filter(|(_, kind)| matches!(**kind, TYPE_CONTROL | TYPE_USER_DEFINED))
        .map(|(token, kind)| AddedToken::from(*token, *kind == TYPE_CONTROL).normalized(false))
        .collect()
}

/// What bytes a token writes into the answer.
fn token_text_bytes(token: &str, kind: i64, spelling: Spelling) -> Box<[u8]> {
    match kind {
        TYPE_CONTROL => Box::default(),
        // llama.cpp stores user-defined tokens verbatim.
        TYPE_USER_DEFINED => token.as_bytes().into(),
        TYPE_BYTE => spm_byte(token).map_or_else(Box::default, |b| Box::from([b])),
        _ => match spelling {
            Spelling::ByteLevel => {
                let table = byte_level_decoder();
                token
                    .chars()
                    .flat_map(|c| match table.get(&c) {
                        Some(b) => vec![*b],
                        None => c.to_string().into_bytes(),
                    })
                    .collect()
            }
            Spelling::SentencePiece => match spm_byte(token) {
                Some(b) => Box::from([b]),
                None => token.replace(SPM_SPACE, " ").into_bytes().into(),
            },
        },
    }
}

/// `<0x0A>` → 0x0A.
fn spm_byte(token: &str) -> Option<u8> {
    let hex = token.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// GPT-2's `bytes_to_unicode`, inverted: printable Latin-1 bytes stand for
/// themselves, the others are shifted to U+0100 and up.
fn byte_level_decoder() -> &'static HashMap<char, u8> {
    static TABLE: std::sync::OnceLock<HashMap<char, u8>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::with_capacity(256);
        let mut shifted = 0u32;
        for b in 0..=255u8 {
            let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
            let c = if printable {
                char::from(b)
            } else {
                let c = char::from_u32(256 + shifted).unwrap_or(char::REPLACEMENT_CHARACTER);
                shifted += 1;
                c
            };
            table.insert(c, b);
        }
        table
    })
}

fn string<'a>(metadata: &'a HashMap<String, Value>, key: &str) -> Option<&'a str> {
    match metadata.get(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn string_array<'a>(
    metadata: &'a HashMap<String, Value>,
    key: &str,
) -> Result<Vec<&'a str>, String> {
    match metadata.get(key) {
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.as_str()),
                _ => Err(format!("{key} holds a value that is not a string")),
            })
            .collect(),
        Some(_) => Err(format!("{key} is not an array")),
        None => Err(format!("no {key} in the GGUF metadata")),
    }
}

/// Any integer metadata value.
pub(crate) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::U8(v) => Some(i64::from(*v)),
        Value::I8(v) => Some(i64::from(*v)),
        Value::U16(v) => Some(i64::from(*v)),
        Value::I16(v) => Some(i64::from(*v)),
        Value::U32(v) => Some(i64::from(*v)),
        Value::I32(v) => Some(i64::from(*v)),
        Value::U64(v) => i64::try_from(*v).ok(),
        Value::I64(v) => Some(*v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_table_inverts_gpt2_mapping() {
        let table = byte_level_decoder();
        assert_eq!(table.len(), 256);
        assert_eq!(table.get(&'Ġ'), Some(&b' '));
        assert_eq!(table.get(&'Ċ'), Some(&b'\n'));
        assert_eq!(table.get(&'a'), Some(&b'a'));
        assert_eq!(
            &*token_text_bytes("Ġ{\"", TYPE_NORMAL, Spelling::ByteLevel),
            b" {\""
        );
    }

    #[test]
    fn sentencepiece_spelling_is_decoded() {
        assert_eq!(spm_byte("<0x0A>"), Some(b'\n'));
        assert_eq!(spm_byte("<0x0AB>"), None);
        assert_eq!(
            &*token_text_bytes("▁hello", TYPE_NORMAL, Spelling::SentencePiece),
            b" hello"
        );
        assert_eq!(
            &*token_text_bytes("<0x7B>", TYPE_BYTE, Spelling::SentencePiece),
            b"{"
        );
        assert!(token_text_bytes("<s>", TYPE_CONTROL, Spelling::SentencePiece).is_empty());
    }

    fn spm_metadata() -> HashMap<String, Value> {
        let pieces = [
            "<unk>", "<s>", "</s>", "▁", "h", "e", "l", "o", "▁h", "he", "▁he", "ll", "llo",
            "▁hello", "<0x21>",
        ];
        let types = [2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6];
        let scores: Vec<f32> = (0..pieces.len()).map(|i| -(i as f32)).collect();
        let mut md = HashMap::new();
        md.insert("tokenizer.ggml.model".into(), Value::String("llama".into()));
        md.insert(
            "tokenizer.ggml.tokens".into(),
            Value::Array(pieces.iter().map(|p| Value::String((*p).into())).collect()),
        );
        md.insert(
            "tokenizer.ggml.token_type".into(),
            Value::Array(types.iter().map(|t| Value::I32(*t)).collect()),
        );
        md.insert(
            "tokenizer.ggml.scores".into(),
            Value::Array(scores.iter().map(|s| Value::F32(*s)).collect()),
        );
        md.insert("tokenizer.ggml.bos_token_id".into(), Value::U32(1));
        md.insert("tokenizer.ggml.eos_token_id".into(), Value::U32(2));
        md.insert("tokenizer.ggml.unknown_token_id".into(), Value::U32(0));
        md
    }

    #[test]
    fn sentencepiece_vocabulary_round_trips_with_byte_fallback() {
        let vocab = Vocabulary::from_gguf(&spm_metadata()).unwrap();
        let ids = vocab.encode_prompt("hello!").unwrap();
        // BOS, then `▁hello` whole (merges rebuilt from scores), then `!` as a byte.
        assert_eq!(ids, vec![1, 13, 14]);
        assert_eq!(vocab.decode(&ids).unwrap(), "hello!");
        assert!(vocab.is_stop(2));
        assert_eq!(vocab.token_bytes(13), b" hello");
    }

    #[test]
    fn unknown_tokenizer_models_are_named() {
        let mut md = spm_metadata();
        md.insert("tokenizer.ggml.model".into(), Value::String("rwkv".into()));
        let err = Vocabulary::from_gguf(&md).unwrap_err();
        assert!(err.contains("rwkv"), "{err}");
    }
}
