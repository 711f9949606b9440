//! Reductions of a set-covering problem before it goes to the MILP solver (Toregas & ReVelle's
//! classic LSCP reductions): a candidate that is the only one reaching some demand must open
//! (essential column); a demand whose reachable candidates include all those of another demand
//! drops out, since covering the other covers it (row dominance); a candidate that reaches only
//! demands another candidate also reaches drops out, since swapping it for the other never
//! uncovers anyone (column dominance). Repeated until nothing changes. On village-scale
//! instances this leaves a small core, which HiGHS then proves optimal in milliseconds where the
//! full model spent most of its time in cut generation.

/// The part of a covering problem left after the reductions.
#[derive(Debug, Clone)]
pub struct CoverCore {
    /// Sites that every optimal cover of the original problem can be taken to contain.
    pub forced: Vec<usize>,
    /// The demands still to cover, each as its sorted list of candidate sites.
    pub rows: Vec<Vec<usize>>,
    /// The candidate sites still in play (sorted).
    pub columns: Vec<usize>,
}

struct Bits {
    words: usize,
    data: Vec<u64>,
}

impl Bits {
    fn new(rows: usize, bits: usize) -> Bits {
        let words = bits.div_ceil(64);
        Bits {
            words,
            data: vec![0; rows * words],
        }
    }
    fn set(&mut self, r: usize, b: usize) {
        self.data[r * self.words + b / 64] |= 1 << (b % 64);
    }
    fn row(&self, r: usize) -> &[u64] {
        &self.data[r * self.words..(r + 1) * self.words]
    }
    /// Row `a` ⊆ row `b`; and whether they are equal.
    fn subset(&self, a: usize, b: usize) -> (bool, bool) {
        let (x, y) = (self.row(a), self.row(b));
        let mut equal = true;
        for (p, q) in x.iter().zip(y) {
            if p & !q != 0 {
                return (false, false);
            }
            if p != q {
                equal = false;
            }
        }
        (true, equal)
    }
}

/// Reduces the covering of `rows` (indices into `sets`, each the candidate sites reaching that
/// demand) over `m` candidates. Every row must have at least one candidate.
pub fn reduce(sets: &[Vec<usize>], rows: &[usize], m: usize) -> CoverCore {
    let mut row_cols: Vec<Vec<usize>> = rows.iter().map(|&i| sets[i].clone()).collect();
    for r in &mut row_cols {
        r.sort_unstable();
        r.dedup();
    }
    let mut row_alive = vec![true; row_cols.len()];
    let mut col_alive = vec![false; m];
    for r in &row_cols {
        for &j in r {
            col_alive[j] = true;
        }
    }
    let mut forced = Vec::new();
    loop {
        let mut changed = false;
        // The current incidence, alive rows × alive columns.
        let nr = row_cols.len();
        let mut col_rows: Vec<Vec<usize>> = vec![vec![]; m];
        for (r, cols) in row_cols.iter().enumerate() {
            if row_alive[r] {
                for &j in cols.iter().filter(|&&j| col_alive[j]) {
                    col_rows[j].push(r);
                }
            }
        }
        // Essential columns: the only candidate of a demand opens; what it covers drops out.
        for r in 0..nr {
            if !row_alive[r] {
                continue;
            }
            let mut alive = row_cols[r].iter().filter(|&&j| col_alive[j]);
            if let (Some(&j), None) = (alive.next(), alive.next()) {
                forced.push(j);
                col_alive[j] = false;
                for &q in &col_rows[j] {
                    row_alive[q] = false;
                }
                changed = true;
            }
        }
        if changed {
            continue; // rebuild the incidence before the dominance tests
        }
        // Columns with nothing left to cover.
        for j in 0..m {
            if col_alive[j] && col_rows[j].is_empty() {
                col_alive[j] = false;
            }
        }
        let mut row_bits = Bits::new(nr, m);
        for (r, cols) in row_cols.iter().enumerate() {
            if row_alive[r] {
                for &j in cols.iter().filter(|&&j| col_alive[j]) {
                    row_bits.set(r, j);
                }
            }
        }
        // Row dominance: row k ⊆ row i (in columns) makes i redundant. Supersets of k share k's
        // rarest column, so only the rows of that column are tried.
        for k in 0..nr {
            if !row_alive[k] {
                continue;
            }
            let Some(&rare) = row_cols[k]
                .iter()
                .filter(|&&j| col_alive[j])
                .min_by_key(|&&j| col_rows[j].len())
            else {
                continue;
            };
            for &i in &col_rows[rare] {
                if i == k || !row_alive[i] {
                    continue;
                }
                let (sub, equal) = row_bits.subset(k, i);
                if sub && (!equal || k < i) {
                    row_alive[i] = false;
                    changed = true;
                }
            }
        }
        // Column dominance on the rows left: rows(j) ⊆ rows(j') makes j redundant.
        let mut col_rows2: Vec<Vec<usize>> = vec![vec![]; m];
        for (r, cols) in row_cols.iter().enumerate() {
            if row_alive[r] {
                for &j in cols.iter().filter(|&&j| col_alive[j]) {
                    col_rows2[j].push(r);
                }
            }
        }
        let mut col_bits = Bits::new(m, nr);
        for (j, rows) in col_rows2.iter().enumerate() {
            for &r in rows {
                col_bits.set(j, r);
            }
        }
        for j in 0..m {
            if !col_alive[j] {
                continue;
            }
            if col_rows2[j].is_empty() {
                col_alive[j] = false;
                changed = true;
                continue;
            }
            let rare = *col_rows2[j]
                .iter()
                .min_by_key(|&&r| row_cols[r].iter().filter(|&&c| col_alive[c]).count())
                .expect("non-empty");
            for &other in &row_cols[rare] {
                if other == j || !col_alive[other] {
                    continue;
                }
                let (sub, equal) = col_bits.subset(j, other);
                if sub && (!equal || other < j) {
                    col_alive[j] = false;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let rows: Vec<Vec<usize>> = row_cols
        .iter()
        .zip(&row_alive)
        .filter(|(_, a)| **a)
        .map(|(cols, _)| cols.iter().copied().filter(|&j| col_alive[j]).collect())
        .collect();
    forced.sort_unstable();
    CoverCore {
        forced,
        rows,
        columns: (0..m).filter(|&j| col_alive[j]).collect(),
    }
}

/// A lower bound on any cover of the core: demands with pairwise disjoint candidate sets each
/// need their own site (greedy packing, smallest sets first).
pub fn packing_bound(core: &CoverCore, m: usize) -> usize {
    let mut order: Vec<usize> = (0..core.rows.len()).collect();
    order.sort_by_key(|&r| (core.rows[r].len(), r));
    let mut taken = vec![false; m];
    let mut count = 0;
    for r in order {
        if core.rows[r].iter().all(|&j| !taken[j]) {
            count += 1;
            for &j in &core.rows[r] {
                taken[j] = true;
            }
        }
    }
    count
}

/// Greedy cover of the core's rows (most uncovered rows first, then redundant sites dropped).
pub fn greedy(core: &CoverCore, m: usize) -> Vec<usize> {
    let mut col_rows: Vec<Vec<usize>> = vec![vec![]; m];
    for (r, cols) in core.rows.iter().enumerate() {
        for &j in cols {
            col_rows[j].push(r);
        }
    }
    let mut covered = vec![0usize; core.rows.len()];
    let mut left = core.rows.len();
    let mut chosen: Vec<usize> = Vec::new();
    let mut gain: Vec<usize> = col_rows.iter().map(|r| r.len()).collect();
    while left > 0 {
        let j = (0..m)
            .max_by_key(|&j| (gain[j], std::cmp::Reverse(j)))
            .expect("columns");
        chosen.push(j);
        for &r in &col_rows[j] {
            if covered[r] == 0 {
                left -= 1;
                for &c in &core.rows[r] {
                    gain[c] -= 1;
                }
            }
            covered[r] += 1;
        }
    }
    // Drop sites whose every row is covered twice, latest first.
    for k in (0..chosen.len()).rev() {
        let j = chosen[k];
        if col_rows[j].iter().all(|&r| covered[r] >= 2) {
            for &r in &col_rows[j] {
                covered[r] -= 1;
            }
            chosen.remove(k);
        }
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_and_dominated_rows_and_columns_go() {
        // Demand 0 is reached only by site 0 (essential); demand 1 by {1, 2}, demand 2 by
        // {1, 2, 3} (dominated by demand 1); site 3 reaches only demand 2 (then nothing);
        // site 2 reaches what site 1 does (equal: the lower index stays).
        let sets = vec![vec![0], vec![1, 2], vec![1, 2, 3], vec![0, 4]];
        let core = reduce(&sets, &[0, 1, 2, 3], 5);
        assert_eq!(core.forced, vec![0, 1]);
        assert!(core.rows.is_empty(), "{core:?}");
        let sets = vec![vec![0, 1], vec![1, 2], vec![2, 0]];
        let core = reduce(&sets, &[0, 1, 2], 3);
        assert!(core.forced.is_empty());
        assert_eq!(core.rows.len(), 3, "a triangle has nothing to reduce");
        assert_eq!(greedy(&core, 3).len(), 2);
        assert_eq!(packing_bound(&core, 3), 1, "every two demands share a site");
        let sets = vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![1, 2]];
        let core = reduce(&sets, &[0, 1, 2, 3], 6);
        assert!(packing_bound(&core, 6) <= greedy(&core, 6).len());
    }
}
