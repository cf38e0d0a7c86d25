//! An incremental, byte-level recogniser of JSON that matches a [`Grammar`].
//!
//! The decoder asks, for a candidate token, whether the answer with that
//! token's bytes appended is still a prefix of a valid answer
//! ([`JsonConstraint::feed`] on a copy), and, near the token budget, for the
//! shortest way to finish ([`JsonConstraint::completion`]). The state is a
//! stack of small `Copy` frames, so copying it per candidate is a memcpy.

use super::json_schema::{
    ANY, ANY_ARRAY, ANY_KEYWORD, ANY_NUMBER, ANY_OBJECT, ANY_STRING, Grammar, MAX_CHOICES, Node,
    NodeId, Property,
};

/// Longest run of whitespace between tokens: models otherwise can loop on
/// newlines forever, which is valid JSON but never ends.
const MAX_WHITESPACE_RUN: u8 = 8;
/// Longest number, in bytes.
const MAX_NUMBER_LEN: u16 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After `{` or `[`.
    Start,
    /// A key (object) is being read by the child frame.
    Key,
    /// Before `:`.
    AfterKey,
    /// After a value: `,` or the closing bracket.
    AfterValue,
    /// After `,`: the next key or item.
    Next,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After `\`.
    Backslash,
    /// After `\u` and this many hex digits; `surrogate` when the first was `d`.
    Unicode {
        digits: u8,
        surrogate: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumPhase {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpInt,
}

impl NumPhase {
    fn can_end(self) -> bool {
        matches!(self, Self::Zero | Self::Int | Self::Frac | Self::ExpInt)
    }
}

/// Where a literal's options come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choices {
    /// The options of a [`Node::Literal`].
    Values(NodeId),
    /// Keys of an object's properties.
    Keys(NodeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// A value is expected next.
    Value(NodeId),
    /// Inside an object with known properties: `written` has a bit per
    /// property already present, `current` is the one whose value comes next.
    Object {
        node: NodeId,
        written: u64,
        current: u16,
        phase: Phase,
    },
    /// Inside an object with any keys.
    AnyObject(Phase),
    Array {
        node: NodeId,
        count: u32,
        phase: Phase,
    },
    /// Inside a string, after the opening quote.
    Str {
        node: NodeId,
        chars: u32,
        escape: Escape,
        /// Continuation bytes still due for a multi-byte UTF-8 character, and
        /// the range allowed for the next one.
        utf8_due: u8,
        utf8_low: u8,
        utf8_high: u8,
    },
    Number {
        integer: bool,
        phase: NumPhase,
        len: u16,
    },
    /// One of several fixed byte strings; `live` has a bit per option still
    /// matching the first `pos` bytes.
    Literal {
        choices: Choices,
        pos: u16,
        live: u64,
    },
}

/// What a frame does with a byte.
enum Step {
    Reject,
    /// Structural whitespace, counted against [`MAX_WHITESPACE_RUN`].
    Whitespace,
    Consumed(Frame),
    /// Consumed; the new child frame goes on top.
    ConsumedPush(Frame, Frame),
    /// Not consumed: the frame becomes another, which gets the byte.
    Become(Frame),
    /// Not consumed: a child goes on top and gets the byte.
    Push(Frame, Frame),
    /// The frame ended before this byte; the parent gets it.
    Ended(Option<u16>),
    /// The byte ended the frame.
    ConsumedEnd(Option<u16>),
}

/// Whether, near the end of the budget, finishing would make something up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Completion {
    /// Bytes that close every open value.
    pub(crate) bytes: Vec<u8>,
    /// Closing had to choose content the model did not write (a required
    /// property, an enum value among several, padding to a minimum length).
    pub(crate) invents: bool,
}

/// The recogniser's state.
#[derive(Debug)]
pub(crate) struct JsonConstraint<'g> {
    grammar: &'g Grammar,
    stack: Vec<Frame>,
    whitespace_run: u8,
    done: bool,
}

impl Clone for JsonConstraint<'_> {
    fn clone(&self) -> Self {
        Self {
            grammar: self.grammar,
            stack: self.stack.clone(),
            whitespace_run: self.whitespace_run,
            done: self.done,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.grammar = source.grammar;
        self.stack.clone_from(&source.stack);
        self.whitespace_run = source.whitespace_run;
        self.done = source.done;
    }
}

impl<'g> JsonConstraint<'g> {
    /// Nothing written yet; the answer must be the grammar's root object.
    pub(crate) fn new(grammar: &'g Grammar) -> Self {
        Self {
            grammar,
            stack: vec![Frame::Value(grammar.root)],
            whitespace_run: 0,
            done: false,
        }
    }

    /// The root object is closed (only whitespace may follow).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Appends `bytes`; `false` (and an unspecified state) when they cannot
    /// continue a valid answer.
    pub(crate) fn feed_all(&mut self, bytes: &[u8]) -> bool {
        !bytes.is_empty() && bytes.iter().all(|&b| self.feed(b))
    }

    /// Whether `bytes` may follow, using `scratch` to avoid allocating.
    pub(crate) fn allows(&self, bytes: &[u8], scratch: &mut Self) -> bool {
        scratch.clone_from(self);
        scratch.feed_all(bytes)
    }

    /// Appends one byte.
    pub(crate) fn feed(&mut self, b: u8) -> bool {
        if self.done {
            return is_whitespace(b) && self.count_whitespace();
        }
        loop {
            let Some(&top) = self.stack.last() else {
                return false;
            };
            match self.step(top, b) {
                Step::Reject => return false,
                Step::Whitespace => return self.count_whitespace(),
                Step::Consumed(frame) => {
                    self.replace_top(frame);
                    self.whitespace_run = 0;
                    return true;
                }
                Step::ConsumedPush(frame, child) => {
                    self.replace_top(frame);
                    self.stack.push(child);
                    self.whitespace_run = 0;
                    return true;
                }
                Step::Become(frame) => self.replace_top(frame),
                Step::Push(frame, child) => {
                    self.replace_top(frame);
                    self.stack.push(child);
                }
                Step::Ended(result) => {
                    self.end_top(result);
                    if self.done {
                        return is_whitespace(b) && self.count_whitespace();
                    }
                }
                Step::ConsumedEnd(result) => {
                    self.end_top(result);
                    self.whitespace_run = 0;
                    return true;
                }
            }
        }
    }

    fn count_whitespace(&mut self) -> bool {
        if self.whitespace_run >= MAX_WHITESPACE_RUN {
            return false;
        }
        self.whitespace_run += 1;
        true
    }

    fn replace_top(&mut self, frame: Frame) {
        if let Some(top) = self.stack.last_mut() {
            *top = frame;
        }
    }

    /// Pops the top frame and tells its parent which key it matched.
    fn end_top(&mut self, result: Option<u16>) {
        self.stack.pop();
        match self.stack.last_mut() {
            None => self.done = true,
            Some(Frame::Object {
                written,
                current,
                phase,
                ..
            }) if *phase == Phase::Key => {
                if let Some(index) = result {
                    *current = index;
                    *written |= 1u64 << index;
                }
                *phase = Phase::AfterKey;
            }
            Some(Frame::AnyObject(phase)) if *phase == Phase::Key => *phase = Phase::AfterKey,
            Some(_) => {}
        }
    }

    fn step(&self, frame: Frame, b: u8) -> Step {
        let structural_space = is_whitespace(b);
        match frame {
            Frame::Value(node) => {
                if structural_space {
                    // No whitespace before the root: the answer starts at `{`.
                    return if self.stack.len() > 1 {
                        Step::Whitespace
                    } else {
                        Step::Reject
                    };
                }
                self.start_value(node, b)
            }
            Frame::Object {
                node,
                written,
                current,
                phase,
            } => {
                let properties = self.properties(node);
                let unwritten = unwritten(properties, written);
                let object = |phase| Frame::Object {
                    node,
                    written,
                    current,
                    phase,
                };
                match (phase, b) {
                    (Phase::Key, _) => Step::Reject,
                    (_, _) if structural_space => Step::Whitespace,
                    (Phase::Start | Phase::Next, b'"') if unwritten != 0 => Step::Push(
                        object(Phase::Key),
                        Frame::Literal {
                            choices: Choices::Keys(node),
                            pos: 0,
                            live: unwritten,
                        },
                    ),
                    (Phase::Start | Phase::AfterValue, b'}')
                        if missing_required(properties, written) == 0 =>
                    {
                        Step::ConsumedEnd(None)
                    }
                    (Phase::AfterKey, b':') => {
                        let value = properties
                            .get(usize::from(current))
                            .map_or(ANY, |p| p.value);
                        Step::ConsumedPush(object(Phase::AfterValue), Frame::Value(value))
                    }
                    (Phase::AfterValue, b',') if unwritten != 0 => {
                        Step::Consumed(object(Phase::Next))
                    }
                    _ => Step::Reject,
                }
            }
            Frame::AnyObject(phase) => match (phase, b) {
                (Phase::Key, _) => Step::Reject,
                (_, _) if structural_space => Step::Whitespace,
                (Phase::Start | Phase::Next, b'"') => {
                    Step::Push(Frame::AnyObject(Phase::Key), Frame::Value(ANY_STRING))
                }
                (Phase::Start | Phase::AfterValue, b'}') => Step::ConsumedEnd(None),
                (Phase::AfterKey, b':') => {
                    Step::ConsumedPush(Frame::AnyObject(Phase::AfterValue), Frame::Value(ANY))
                }
                (Phase::AfterValue, b',') => Step::Consumed(Frame::AnyObject(Phase::Next)),
                _ => Step::Reject,
            },
            Frame::Array { node, count, phase } => {
                let (items, min, max) = match self.grammar.node(node) {
                    Node::Array { items, min, max } => (*items, *min, *max),
                    _ => (ANY, 0, None),
                };
                let room = max.is_none_or(|max| count < max);
                match (phase, b) {
                    (_, _) if structural_space => Step::Whitespace,
                    (Phase::Start | Phase::AfterValue, b']') if count >= min => {
                        Step::ConsumedEnd(None)
                    }
                    (Phase::AfterValue, b',') if room => Step::Consumed(Frame::Array {
                        node,
                        count,
                        phase: Phase::Next,
                    }),
                    (Phase::Start | Phase::Next, _) if room => Step::Push(
                        Frame::Array {
                            node,
                            count: count + 1,
                            phase: Phase::AfterValue,
                        },
                        Frame::Value(items),
                    ),
                    _ => Step::Reject,
                }
            }
            Frame::Str {
                node,
                chars,
                escape,
                utf8_due,
                utf8_low,
                utf8_high,
            } => self.step_string(node, chars, escape, (utf8_due, utf8_low, utf8_high), b),
            Frame::Number {
                integer,
                phase,
                len,
            } => step_number(integer, phase, len, b),
            Frame::Literal { choices, pos, live } => self.step_literal(choices, pos, live, b),
        }
    }

    fn start_value(&self, node: NodeId, b: u8) -> Step {
        match self.grammar.node(node) {
            Node::Any => match b {
                b'{' => Step::Become(Frame::Value(ANY_OBJECT)),
                b'[' => Step::Become(Frame::Value(ANY_ARRAY)),
                b'"' => Step::Become(Frame::Value(ANY_STRING)),
                b'-' | b'0'..=b'9' => Step::Become(Frame::Value(ANY_NUMBER)),
                b't' | b'f' | b'n' => Step::Become(Frame::Value(ANY_KEYWORD)),
                _ => Step::Reject,
            },
            Node::Object(_) if b == b'{' => Step::Consumed(Frame::Object {
                node,
                written: 0,
                current: 0,
                phase: Phase::Start,
            }),
            Node::AnyObject if b == b'{' => Step::Consumed(Frame::AnyObject(Phase::Start)),
            Node::Array { .. } if b == b'[' => Step::Consumed(Frame::Array {
                node,
                count: 0,
                phase: Phase::Start,
            }),
            Node::String { .. } if b == b'"' => Step::Consumed(Frame::Str {
                node,
                chars: 0,
                escape: Escape::None,
                utf8_due: 0,
                utf8_low: 0,
                utf8_high: 0,
            }),
            Node::Number { integer } => {
                let phase = match b {
                    b'-' => NumPhase::Minus,
                    b'0' => NumPhase::Zero,
                    b'1'..=b'9' => NumPhase::Int,
                    _ => return Step::Reject,
                };
                Step::Consumed(Frame::Number {
                    integer: *integer,
                    phase,
                    len: 1,
                })
            }
            Node::Literal(options) => Step::Become(Frame::Literal {
                choices: Choices::Values(node),
                pos: 0,
                live: all_bits(options.len()),
            }),
            _ => Step::Reject,
        }
    }

    fn step_string(
        &self,
        node: NodeId,
        chars: u32,
        escape: Escape,
        (utf8_due, utf8_low, utf8_high): (u8, u8, u8),
        b: u8,
    ) -> Step {
        let (min, max) = match self.grammar.node(node) {
            Node::String { min, max } => (*min, *max),
            _ => (0, None),
        };
        let room = max.is_none_or(|max| chars < max);
        let frame = |chars, escape, utf8: (u8, u8, u8)| Frame::Str {
            node,
            chars,
            escape,
            utf8_due: utf8.0,
            utf8_low: utf8.1,
            utf8_high: utf8.2,
        };
        if utf8_due > 0 {
            return if (utf8_low..=utf8_high).contains(&b) {
                Step::Consumed(frame(chars, escape, (utf8_due - 1, 0x80, 0xBF)))
            } else {
                Step::Reject
            };
        }
        match escape {
            Escape::Backslash => match b {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                    Step::Consumed(frame(chars + 1, Escape::None, (0, 0, 0)))
                }
                b'u' => Step::Consumed(frame(
                    chars,
                    Escape::Unicode {
                        digits: 0,
                        surrogate: false,
                    },
                    (0, 0, 0),
                )),
                _ => Step::Reject,
            },
            Escape::Unicode { digits, surrogate } => {
                // Surrogate escapes (\uD800–\uDFFF) would need a pair; refuse them.
                let allowed = match (digits, surrogate) {
                    (1, true) => matches!(b, b'0'..=b'7'),
                    _ => b.is_ascii_hexdigit(),
                };
                if !allowed {
                    return Step::Reject;
                }
                if digits == 3 {
                    Step::Consumed(frame(chars + 1, Escape::None, (0, 0, 0)))
                } else {
                    let surrogate = surrogate || (digits == 0 && matches!(b, b'd' | b'D'));
                    Step::Consumed(frame(
                        chars,
                        Escape::Unicode {
                            digits: digits + 1,
                            surrogate,
                        },
                        (0, 0, 0),
                    ))
                }
            }
            Escape::None => match b {
                b'"' if chars >= min => Step::ConsumedEnd(None),
                b'"' => Step::Reject,
                b'\\' if room => Step::Consumed(frame(chars, Escape::Backslash, (0, 0, 0))),
                0x00..=0x1F => Step::Reject,
                0x20..=0x7F if room => Step::Consumed(frame(chars + 1, Escape::None, (0, 0, 0))),
                // Lead bytes of well-formed UTF-8, with the range of the byte
                // after them (no overlong forms, no surrogates, ≤ U+10FFFF).
                0xC2..=0xDF if room => Step::Consumed(frame(chars + 1, escape, (1, 0x80, 0xBF))),
                0xE0 if room => Step::Consumed(frame(chars + 1, escape, (2, 0xA0, 0xBF))),
                0xED if room => Step::Consumed(frame(chars + 1, escape, (2, 0x80, 0x9F))),
                0xE1..=0xEF if room => Step::Consumed(frame(chars + 1, escape, (2, 0x80, 0xBF))),
                0xF0 if room => Step::Consumed(frame(chars + 1, escape, (3, 0x90, 0xBF))),
                0xF4 if room => Step::Consumed(frame(chars + 1, escape, (3, 0x80, 0x8F))),
                0xF1..=0xF3 if room => Step::Consumed(frame(chars + 1, escape, (3, 0x80, 0xBF))),
                _ => Step::Reject,
            },
        }
    }

    fn step_literal(&self, choices: Choices, pos: u16, live: u64, b: u8) -> Step {
        let at = usize::from(pos);
        let mut continuing = 0u64;
        let mut exact = 0u64;
        let mut longer = 0u64;
        let mut ended_here = None;
        for (i, option) in (0..MAX_CHOICES)
            .map_while(|i| self.option(choices, i))
            .enumerate()
        {
            let bit = 1u64 << i;
            if live & bit == 0 {
                continue;
            }
            if option.len() == at && ended_here.is_none() {
                ended_here = Some(i);
            }
            if option.get(at) == Some(&b) {
                continuing |= bit;
                if option.len() == at + 1 {
                    exact |= bit;
                } else {
                    longer |= bit;
                }
            }
        }
        let result = |i: u32| match choices {
            Choices::Keys(_) => u16::try_from(i).ok(),
            Choices::Values(_) => None,
        };
        if continuing != 0 {
            if exact != 0 && longer == 0 {
                Step::ConsumedEnd(result(exact.trailing_zeros()))
            } else {
                Step::Consumed(Frame::Literal {
                    choices,
                    pos: pos + 1,
                    live: continuing,
                })
            }
        } else if let Some(i) = ended_here {
            // An option (say the enum value `1`) ended and a longer one (`12`)
            // did not continue: the literal is over, the parent gets the byte.
            Step::Ended(result(u32::try_from(i).unwrap_or(0)))
        } else {
            Step::Reject
        }
    }

    fn properties(&self, node: NodeId) -> &'g [Property] {
        match self.grammar.node(node) {
            Node::Object(properties) => properties,
            _ => &[],
        }
    }

    /// Option `i` of a literal.
    fn option(&self, choices: Choices, i: usize) -> Option<&'g [u8]> {
        match choices {
            Choices::Values(node) => match self.grammar.node(node) {
                Node::Literal(options) => options.get(i).map(Vec::as_slice),
                _ => None,
            },
            Choices::Keys(object) => self.properties(object).get(i).map(|p| p.key.as_slice()),
        }
    }

    /// The options still matching (`live`).
    fn live_options(&self, choices: Choices, live: u64) -> impl Iterator<Item = &'g [u8]> + '_ {
        (0..MAX_CHOICES)
            .map_while(move |i| self.option(choices, i))
            .enumerate()
            .filter(move |(i, _)| live & (1u64 << i) != 0)
            .map(|(_, option)| option)
    }

    /// The shortest bytes that close the answer from here, or `None` when
    /// the grammar cannot be closed (it always can, short of a bug).
    pub(crate) fn completion(&self) -> Option<Completion> {
        let mut state = self.clone();
        let mut completion = Completion {
            bytes: Vec::new(),
            invents: false,
        };
        for _ in 0..4096 {
            if state.done {
                return Some(completion);
            }
            let (bytes, invents) = state.hint()?;
            completion.invents |= invents;
            if !state.feed_all(&bytes) {
                return None;
            }
            completion.bytes.extend_from_slice(&bytes);
        }
        None
    }

    /// A few bytes that move towards closing, and whether they make content
    /// up. Frames that may end here (a number, a literal that is complete but
    /// could go on) defer to their parent.
    fn hint(&self) -> Option<(Vec<u8>, bool)> {
        for &frame in self.stack.iter().rev() {
            if let Some(hint) = self.frame_hint(frame) {
                return Some(hint);
            }
        }
        None
    }

    fn frame_hint(&self, frame: Frame) -> Option<(Vec<u8>, bool)> {
        let made_up = |bytes: &[u8]| Some((bytes.to_vec(), true));
        let closing = |bytes: &[u8]| Some((bytes.to_vec(), false));
        match frame {
            Frame::Value(node) => match self.grammar.node(node) {
                Node::Object(_) | Node::AnyObject => made_up(b"{"),
                Node::Array { .. } => made_up(b"["),
                Node::String { .. } => made_up(b"\""),
                Node::Number { .. } => made_up(b"0"),
                Node::Any => made_up(b"null"),
                Node::Literal(options) => made_up(shortest(options.iter().map(Vec::as_slice))?),
            },
            Frame::Object {
                node,
                written,
                phase,
                ..
            } => {
                let properties = self.properties(node);
                let missing = missing_required(properties, written);
                match phase {
                    // A required property the model has not written yet.
                    Phase::Start | Phase::Next if missing != 0 => {
                        made_up(&properties.get(missing.trailing_zeros() as usize)?.key)
                    }
                    Phase::Next => {
                        let unwritten = unwritten(properties, written);
                        made_up(&properties.get(unwritten.trailing_zeros() as usize)?.key)
                    }
                    Phase::Start => closing(b"}"),
                    Phase::AfterKey => closing(b":"),
                    Phase::AfterValue if missing != 0 => made_up(b","),
                    Phase::AfterValue => closing(b"}"),
                    Phase::Key => None,
                }
            }
            Frame::AnyObject(phase) => match phase {
                Phase::Start | Phase::AfterValue => closing(b"}"),
                Phase::AfterKey => closing(b":"),
                Phase::Next => made_up(b"\""),
                Phase::Key => None,
            },
            Frame::Array { node, count, phase } => {
                let min = match self.grammar.node(node) {
                    Node::Array { min, .. } => *min,
                    _ => 0,
                };
                match phase {
                    Phase::Start | Phase::AfterValue if count >= min => closing(b"]"),
                    Phase::AfterValue => made_up(b","),
                    // The item's own hint follows once its frame exists.
                    Phase::Start | Phase::Next => {
                        let items = match self.grammar.node(node) {
                            Node::Array { items, .. } => *items,
                            _ => ANY,
                        };
                        self.frame_hint(Frame::Value(items))
                    }
                    Phase::Key | Phase::AfterKey => None,
                }
            }
            Frame::Str {
                node,
                chars,
                escape,
                utf8_due,
                utf8_low,
                ..
            } => {
                if utf8_due > 0 {
                    let mut bytes = vec![utf8_low];
                    bytes.resize(usize::from(utf8_due), 0x80);
                    return closing(&bytes);
                }
                match escape {
                    Escape::Backslash => return closing(b"n"),
                    Escape::Unicode { digits, .. } => {
                        return closing(&vec![b'0'; usize::from(4 - digits.min(4))]);
                    }
                    Escape::None => {}
                }
                let min = match self.grammar.node(node) {
                    Node::String { min, .. } => *min,
                    _ => 0,
                };
                if chars < min {
                    made_up(b"a")
                } else {
                    closing(b"\"")
                }
            }
            Frame::Number { phase, .. } => {
                if phase.can_end() {
                    None
                } else {
                    made_up(b"0")
                }
            }
            Frame::Literal { choices, pos, live } => {
                let at = usize::from(pos);
                let live_options = || self.live_options(choices, live);
                if live_options().any(|option| option.len() == at) {
                    return None;
                }
                let rest = &shortest(live_options())?[at..];
                // Finishing a literal the model has narrowed to one option
                // invents nothing; picking among several would.
                let several = live_options().nth(1).is_some();
                Some((rest.to_vec(), several))
            }
        }
    }
}

fn step_number(integer: bool, phase: NumPhase, len: u16, b: u8) -> Step {
    let next = |phase| {
        if len >= MAX_NUMBER_LEN {
            Step::Reject
        } else {
            Step::Consumed(Frame::Number {
                integer,
                phase,
                len: len + 1,
            })
        }
    };
    use NumPhase::*;
    match (phase, b) {
        (Minus, b'0') => next(Zero),
        (Minus, b'1'..=b'9') => next(Int),
        (Int, b'0'..=b'9') => next(Int),
        (Zero | Int, b'.') if !integer => next(Dot),
        (Zero | Int | Frac, b'e' | b'E') if !integer => next(Exp),
        (Dot | Frac, b'0'..=b'9') => next(Frac),
        (Exp, b'+' | b'-') => next(ExpSign),
        (Exp | ExpSign | ExpInt, b'0'..=b'9') => next(ExpInt),
        (phase, _) if phase.can_end() && !b.is_ascii_digit() => Step::Ended(None),
        _ => Step::Reject,
    }
}

/// Properties not written yet, as a bit set.
fn unwritten(properties: &[Property], written: u64) -> u64 {
    all_bits(properties.len().min(MAX_CHOICES)) & !written
}

/// Required properties not written yet, as a bit set.
fn missing_required(properties: &[Property], written: u64) -> u64 {
    properties
        .iter()
        .take(MAX_CHOICES)
        .enumerate()
        .filter(|(i, p)| p.required && written & (1u64 << i) == 0)
        .fold(0, |set, (i, _)| set | (1u64 << i))
}

fn all_bits(count: usize) -> u64 {
    if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count) - 1
    }
}

fn shortest<'a>(options: impl Iterator<Item = &'a [u8]>) -> Option<&'a [u8]> {
    options.min_by_key(|option| option.len())
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn triage() -> Grammar {
        Grammar::compile(&json!({
            "type": "object",
            "properties": {
                "disposition": {"type": "string", "enum": ["self_care", "routine", "urgent_24h"]},
                "rationale": {"type": "string", "maxLength": 40},
                "red_flags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                "confidence": {"type": "number"},
                "age": {"type": "integer"},
                "callback": {"type": "boolean"}
            },
            "required": ["disposition", "rationale"]
        }))
    }

    fn accepts(grammar: &Grammar, text: &str) -> bool {
        let mut constraint = JsonConstraint::new(grammar);
        text.bytes().all(|b| constraint.feed(b))
    }

    fn complete(grammar: &Grammar, text: &str) -> bool {
        let mut constraint = JsonConstraint::new(grammar);
        text.bytes().all(|b| constraint.feed(b)) && constraint.is_done()
    }

    #[test]
    fn valid_answers_are_accepted_whole() {
        let g = triage();
        for text in [
            r#"{"disposition":"routine","rationale":"mild"}"#,
            "{\n  \"disposition\": \"urgent_24h\",\n  \"rationale\": \"fever \\\"3 days\\\" \\u00e9 é\"\n}",
            r#"{"disposition":"self_care","rationale":"","red_flags":["a","b"],"confidence":0.5e-3,"age":42,"callback":true}"#,
            r#"{"disposition":"routine","rationale":"x","age":-0}"#,
            r#"{"disposition":"routine","rationale":"x","callback":false}  "#,
        ] {
            assert!(complete(&g, text), "rejected: {text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
        }
    }

    #[test]
    fn invalid_prefixes_are_refused() {
        let g = triage();
        for text in [
            " {",                                                    // text before the object
            "Sure",                                                  // prose
            r#"{"disposition":"routine","disposition""#,             // a key twice
            r#"{"disposition":"later"#,                              // not an enum value
            r#"{"disposition":"routine","rationale":"a"}}"#,         // after the end
            r#"{"disposition":"routine","rationale":"a","other""#,   // unknown key
            r#"{"disposition":"routine","rationale":"a","age":1.5"#, // integer
            r#"{"disposition":"routine","rationale":"a","age":01"#,  // leading zero
            r#"{"disposition":"routine","rationale":"a","callback":yes"#,
            r#"{"disposition":"routine","rationale":"a\x"#, // bad escape
            r#"{"disposition":"routine","rationale":"a\ud800"#, // lone surrogate
            r#"{"disposition":"routine","rationale":"a","red_flags":["x",]"#,
            r#"{"disposition":"routine","rationale":"a","red_flags":["x","y","z""#, // maxItems
            r#"{"disposition":"routine","rationale":"a",}"#, // trailing comma
            "{\"disposition\":\"routine\",\"rationale\":\"line\nbreak", // raw control char
        ] {
            assert!(!accepts(&g, text), "accepted: {text}");
        }
        let long = format!(
            r#"{{"disposition":"routine","rationale":"{}"#,
            "a".repeat(41)
        );
        assert!(!accepts(&g, &long), "maxLength is enforced");
    }

    #[test]
    fn whitespace_runs_are_capped() {
        let g = triage();
        assert!(accepts(&g, &format!("{{{}", " ".repeat(8))));
        assert!(!accepts(&g, &format!("{{{}", " ".repeat(9))));
    }

    #[test]
    fn invalid_utf8_in_strings_is_refused() {
        let g = triage();
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":"routine","rationale":""#));
        let mut scratch = c.clone();
        assert!(c.allows("é".as_bytes(), &mut scratch));
        assert!(!c.allows(&[0xC3, b'a'], &mut scratch));
        assert!(!c.allows(&[0xC0, 0x80], &mut scratch), "overlong");
        assert!(!c.allows(&[0xED, 0xA0, 0x80], &mut scratch), "surrogate");
    }

    #[test]
    fn completion_closes_without_inventing_when_possible() {
        let g = triage();
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":"routine","rationale":"because the"#));
        let done = c.completion().unwrap();
        assert_eq!(done.bytes, b"\"}");
        assert!(!done.invents);

        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":"ro"#));
        let done = c.completion().unwrap();
        assert_eq!(done.bytes, br#"utine","rationale":""}"#);
        assert!(done.invents, "the required rationale is made up");

        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":""#));
        assert!(c.completion().unwrap().invents, "an enum value is chosen");

        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":"routine","rationale":"","age":12"#));
        assert_eq!(c.completion().unwrap().bytes, b"}");

        let fresh = JsonConstraint::new(&g).completion().unwrap();
        // The shortest enum value, an empty string.
        assert_eq!(fresh.bytes, br#"{"disposition":"routine","rationale":""}"#);
        let text = String::from_utf8(fresh.bytes).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }

    #[test]
    fn completion_finishes_escapes_and_utf8() {
        let g = triage();
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":"routine","rationale":"a\u00"#));
        assert_eq!(c.completion().unwrap().bytes, br#"00"}"#);
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"disposition":"routine","rationale":"a"#));
        assert!(c.feed(0xE2));
        let bytes = c.completion().unwrap().bytes;
        let mut full = br#"{"disposition":"routine","rationale":"a"#.to_vec();
        full.push(0xE2);
        full.extend_from_slice(&bytes);
        assert!(serde_json::from_slice::<serde_json::Value>(&full).is_ok());
    }

    #[test]
    fn numeric_enums_end_at_the_delimiter() {
        let g = Grammar::compile(&json!({
            "type": "object",
            "properties": {"n": {"enum": [1, 12]}, "m": {"type": "null"}},
            "required": ["n"]
        }));
        assert!(complete(&g, r#"{"n":1}"#));
        assert!(complete(&g, r#"{"n":12,"m":null}"#));
        assert!(!accepts(&g, r#"{"n":13"#));
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"n":1"#));
        assert_eq!(c.completion().unwrap().bytes, b"}");
    }

    #[test]
    fn free_json_is_accepted_where_the_schema_says_little() {
        let g = Grammar::compile(&json!({"type": "object"}));
        assert!(complete(
            &g,
            r#"{"a":[1,{"b":null}],"c":"d","e":-1.5E+3,"f":true}"#
        ));
        assert!(complete(&g, "{}"));
        assert!(!accepts(&g, r#"{"a":tru "#));
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"a":[1,{"b":"#));
        let bytes = c.completion().unwrap().bytes;
        let mut full = br#"{"a":[1,{"b":"#.to_vec();
        full.extend_from_slice(&bytes);
        assert!(serde_json::from_slice::<serde_json::Value>(&full).is_ok());
    }

    #[test]
    fn properties_come_in_any_order_once_and_required_ones_always() {
        let g = Grammar::compile(&json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "string"},
                "c": {"type": "string"}
            },
            "required": ["c"]
        }));
        assert!(complete(&g, r#"{"c":""}"#));
        assert!(complete(&g, r#"{"b":"","c":""}"#));
        assert!(complete(&g, r#"{"c":"","a":""}"#));
        assert!(!accepts(&g, r#"{"c":"","c""#));
        assert!(!accepts(&g, r#"{"b":""}"#));
        assert!(!accepts(&g, "{}"));
        let mut c = JsonConstraint::new(&g);
        assert!(c.feed_all(br#"{"a":"x""#));
        let done = c.completion().unwrap();
        assert_eq!(done.bytes, br#","c":""}"#);
        assert!(done.invents);
    }
}
