//! Sentence embeddings with all-MiniLM-L6-v2 on CPU (Candle).
//!
//! Reproduces the sentence-transformers pipeline listed in the model's
//! `modules.json`: BERT → mean pooling over real tokens → L2 normalisation.
//! Vectors are therefore unit-length and [`cosine`] equals their dot product.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// Texts per forward pass. Larger batches gain little on 2 cores and the
/// attention scores grow as batch × heads × len²; 32 matches sentence-transformers.
const BATCH_SIZE: usize = 32;

/// Why loading the model or embedding failed. Load errors name the file.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file is missing or unreadable.
    #[error("cannot read model file {path}: {source}")]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A JSON configuration file does not parse.
    #[error("invalid model config {path}: {source}")]
    Config {
        /// The offending file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The model files parse but describe a model this embedder cannot run.
    #[error("unsupported model in {path}: {reason}")]
    Unsupported {
        /// The file whose contents are unsupported.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `tokenizer.json` does not load.
    #[error("invalid tokenizer {path}: {message}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// The tokenizers crate's message (its error type is a boxed trait object).
        message: String,
    },
    /// The safetensors weights are corrupt or do not match `config.json`.
    #[error("invalid model weights {path}: {source}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// The Candle error.
        source: candle_core::Error,
    },
    /// Tokenising an input text failed.
    #[error("tokenisation failed: {0}")]
    Tokenize(String),
    /// The forward pass failed.
    #[error("embedding inference failed: {0}")]
    Inference(#[from] candle_core::Error),
}

/// `1_Pooling/config.json`: only the fields this embedder checks.
#[derive(Deserialize)]
struct PoolingConfig {
    word_embedding_dimension: usize,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

/// `sentence_bert_config.json`.
#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: usize,
}

/// A sentence embedder (all-MiniLM-L6-v2 or another BERT sentence-transformer
/// with mean pooling). Cheap to share: wrap in an `Arc` and call from any thread.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    dimension: usize,
    max_seq_length: usize,
    dir: PathBuf,
}

impl fmt::Debug for Embedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedder")
            .field("dir", &self.dir)
            .field("dimension", &self.dimension)
            .field("max_seq_length", &self.max_seq_length)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads a sentence-transformers model directory: `config.json`,
    /// `model.safetensors`, `tokenizer.json`, `sentence_bert_config.json` and
    /// `1_Pooling/config.json`.
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        let config_path = dir.join("config.json");
        let config: Config = read_json(&config_path)?;
        let hidden_size = config.hidden_size;

        let pooling_path = dir.join("1_Pooling").join("config.json");
        let pooling: PoolingConfig = read_json(&pooling_path)?;
        if !pooling.pooling_mode_mean_tokens {
            return Err(EmbedError::Unsupported {
                path: pooling_path,
                reason: "only mean pooling is implemented".to_owned(),
            });
        }
        if pooling.word_embedding_dimension != hidden_size {
            return Err(EmbedError::Unsupported {
                path: pooling_path,
                reason: format!(
                    "word_embedding_dimension {} differs from hidden_size {hidden_size}",
                    pooling.word_embedding_dimension
                ),
            });
        }

        let st_path = dir.join("sentence_bert_config.json");
        let st_config: SentenceBertConfig = read_json(&st_path)?;
        // [CLS] and [SEP] must fit, and positions beyond the table do not exist.
        if st_config.max_seq_length < 2 || st_config.max_seq_length > config.max_position_embeddings
        {
            return Err(EmbedError::Unsupported {
                path: st_path,
                reason: format!(
                    "max_seq_length {} outside 2..={}",
                    st_config.max_seq_length, config.max_position_embeddings
                ),
            });
        }

        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer = load_tokenizer(&tokenizer_path, st_config.max_seq_length)?;

        // Buffered rather than mmapped: mmap needs `unsafe`, which the workspace
        // denies, and the one-off 90 MB copy is a small part of the ~150 ms load.
        let weights_path = dir.join("model.safetensors");
        let bytes = fs::read(&weights_path).map_err(|source| EmbedError::Read {
            path: weights_path.clone(),
            source,
        })?;
        let weights_error = |source| EmbedError::Weights {
            path: weights_path.clone(),
            source,
        };
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(weights_error)?;
        let model = BertModel::load(vb, &config).map_err(weights_error)?;

        Ok(Embedder {
            model,
            tokenizer,
            dimension: hidden_size,
            max_seq_length: st_config.max_seq_length,
            dir: dir.to_path_buf(),
        })
    }

    /// Length of every embedding (384 for all-MiniLM-L6-v2).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Longest input in tokens, `[CLS]` and `[SEP]` included; longer texts are truncated.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Embeds `texts`, returning one unit-length vector per text in input order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;

        // Batch texts of similar length together so little compute goes to padding.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());

        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH_SIZE) {
            let batch: Vec<&Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            let vectors = self.embed_batch(&batch)?;
            for (&i, vector) in chunk.iter().zip(vectors) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// One forward pass over already-tokenised texts, padded to the longest.
    fn embed_batch(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let len = batch.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for encoding in batch {
            let real = encoding.get_ids();
            ids.extend_from_slice(real);
            // Pad id 0 is [PAD]; its value is irrelevant once masked out.
            ids.resize(ids.len() + len - real.len(), 0);
            mask.extend(std::iter::repeat_n(1u32, real.len()));
            mask.resize(mask.len() + len - real.len(), 0);
        }
        let shape = (batch.len(), len);
        let device = &self.model.device;
        let ids = Tensor::from_vec(ids, shape, device)?;
        let mask = Tensor::from_vec(mask, shape, device)?;
        let token_types = ids.zeros_like()?;

        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;

        // Mean over real tokens only: padded positions still get hidden states.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        // Same epsilon as torch.nn.functional.normalize in the Normalize module.
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        let normalised = mean.broadcast_div(&norms)?;
        Ok(normalised.to_vec2::<f32>()?)
    }
}

/// Cosine similarity; for [`Embedder`] output this is the dot product.
/// Returns 0 when either vector is zero or the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    let denom = (aa * bb).sqrt();
    if denom == 0.0 { 0.0 } else { dot / denom }
}

fn read_file(path: &Path) -> Result<Vec<u8>, EmbedError> {
    fs::read(path).map_err(|source| EmbedError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, EmbedError> {
    serde_json::from_slice(&read_file(path)?).map_err(|source| EmbedError::Config {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads `tokenizer.json` without its fixed 128-token padding and truncation:
/// truncate at the model's `max_seq_length` instead and pad per batch in
/// [`Embedder::embed_batch`].
fn load_tokenizer(path: &Path, max_seq_length: usize) -> Result<Tokenizer, EmbedError> {
    let error = |e: tokenizers::Error| EmbedError::Tokenizer {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut tokenizer = Tokenizer::from_bytes(read_file(path)?).map_err(error)?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            direction: TruncationDirection::Right,
            max_length: max_seq_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }))
        .map_err(error)?;
    Ok(tokenizer)
}
