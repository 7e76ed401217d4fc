//! Typed reads of the ledger state, for tests, the API and tools.

use crate::schema::{
    self, AccountRecord, AuctionRecord, BidRecord, BidderRecord, DistributionRecord, HoldRecord,
    Holding, InstructionRecord, InstrumentRecord, ParticipantRecord, ReceiptRecord, Scheduled,
    ServicingRecord, keys,
};
use crate::store::Store;
use tally_types::{
    AccountId, Amount, AuctionId, Cusip, Hash32, HoldId, InstrumentId, Isin, Lei, PublicKey,
    Timestamp,
};

/// Read-only typed access to a store.
pub struct StateReader<'a, S: Store + ?Sized>(pub &'a S);

impl<S: Store + ?Sized> StateReader<'_, S> {
    fn read<T: commonware_codec::Read<Cfg = ()>>(&self, key: &[u8]) -> Option<T> {
        self.0.get(key).map(|b| schema::decode(&b))
    }

    /// A participant.
    pub fn participant(&self, lei: &Lei) -> Option<ParticipantRecord> {
        self.read(&keys::participant(lei))
    }
    /// The participant owning a key.
    pub fn key_owner(&self, key: &PublicKey) -> Option<Lei> {
        self.read(&keys::key_owner(key))
    }
    /// The next nonce of a sender key.
    pub fn next_nonce(&self, key: &PublicKey) -> u64 {
        self.read(&keys::nonce(key)).unwrap_or(0)
    }
    /// An account.
    pub fn account(&self, id: AccountId) -> Option<AccountRecord> {
        self.read(&keys::account(id))
    }
    /// An instrument.
    pub fn instrument(&self, id: InstrumentId) -> Option<InstrumentRecord> {
        self.read(&keys::instrument(id))
    }
    /// The instrument with an ISIN.
    pub fn instrument_by_isin(&self, isin: &Isin) -> Option<InstrumentId> {
        self.read(&keys::isin(isin))
    }
    /// The instrument with a CUSIP.
    pub fn instrument_by_cusip(&self, cusip: &Cusip) -> Option<InstrumentId> {
        self.read(&keys::cusip(cusip))
    }
    /// One holding (zero if none).
    pub fn holding(&self, account: AccountId, instrument: InstrumentId) -> Holding {
        self.read(&keys::holding(account, instrument))
            .unwrap_or_default()
    }
    /// Balance of one holding.
    pub fn balance(&self, account: AccountId, instrument: InstrumentId) -> u128 {
        self.holding(account, instrument).balance
    }
    /// Every holding of an account (up to `limit`), by instrument id.
    pub fn holdings(&self, account: AccountId, limit: usize) -> Vec<(InstrumentId, Holding)> {
        let (start, end) = keys::holdings_of(account);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, v)| {
                let id = u64::from_be_bytes(k[9..17].try_into().expect("holding key"));
                (InstrumentId(id), schema::decode(&v))
            })
            .collect()
    }
    /// Accounts of a participant (up to `limit`).
    pub fn accounts_of(&self, owner: &Lei, limit: usize) -> Vec<AccountId> {
        let start = keys::account_by_owner(owner, AccountId(0));
        let mut end = keys::account_by_owner(owner, AccountId(u64::MAX));
        end.push(0);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, _)| AccountId(u64::from_be_bytes(k[21..29].try_into().expect("index key"))))
            .collect()
    }
    /// A pending instruction.
    pub fn instruction(&self, id: &Hash32) -> Option<InstructionRecord> {
        self.read(&keys::instruction(id))
    }
    /// A hold.
    pub fn hold(&self, id: HoldId) -> Option<HoldRecord> {
        self.read(&keys::hold(id))
    }
    /// A registered remote ledger.
    pub fn remote_ledger(
        &self,
        chain: &tally_types::ChainId,
    ) -> Option<schema::RemoteLedgerRecord> {
        self.read(&keys::remote_ledger(chain))
    }
    /// The recorded outcome of a transaction: the block that applied it, or else the
    /// latest block that refused it.
    pub fn receipt(&self, tx_id: &Hash32) -> Option<ReceiptRecord> {
        self.read(&keys::receipt(tx_id))
    }
    /// The per-transfer outcomes of an applied transfer batch.
    pub fn batch_result(&self, tx_id: &Hash32) -> Option<crate::schema::BatchResult> {
        self.read(&keys::batch_result(tx_id))
    }
    /// An auction.
    pub fn auction(&self, id: AuctionId) -> Option<AuctionRecord> {
        self.read(&keys::auction(id))
    }
    /// The bids of an auction (up to `limit`), by sequence number.
    pub fn bids(&self, id: AuctionId, limit: usize) -> Vec<(u32, BidRecord)> {
        let (start, end) = keys::bids_of(id);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, v)| {
                let seq = u32::from_be_bytes(k[9..13].try_into().expect("bid key"));
                (seq, schema::decode(&v))
            })
            .collect()
    }
    /// Each bidder's totals in an auction (up to `limit`), by LEI.
    pub fn bidders(&self, id: AuctionId, limit: usize) -> Vec<(Lei, BidderRecord)> {
        let (start, end) = keys::bidders_of(id);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .filter_map(|(k, v)| {
                let lei = Lei::parse(core::str::from_utf8(&k[9..]).ok()?).ok()?;
                Some((lei, schema::decode(&v)))
            })
            .collect()
    }
    /// Who pays an instrument's coupons and redemption.
    pub fn servicing(&self, id: InstrumentId) -> Option<ServicingRecord> {
        self.read(&keys::servicing(id))
    }
    /// One distribution.
    pub fn distribution(&self, id: InstrumentId, seq: u32) -> Option<DistributionRecord> {
        self.read(&keys::distribution(id, seq))
    }
    /// The distributions of an instrument (up to `limit`), by sequence number.
    pub fn distributions(&self, id: InstrumentId, limit: usize) -> Vec<(u32, DistributionRecord)> {
        let (start, end) = keys::distributions_of(id);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, v)| {
                let seq = u32::from_be_bytes(k[9..13].try_into().expect("distribution key"));
                (seq, schema::decode(&v))
            })
            .collect()
    }
    /// An unpaid entitlement.
    pub fn entitlement(&self, id: InstrumentId, seq: u32, account: AccountId) -> Option<Amount> {
        self.read(&keys::entitlement(id, seq, account))
    }
    /// Accounts holding an instrument (up to `limit`), in account order.
    pub fn holders(&self, id: InstrumentId, limit: usize) -> Vec<AccountId> {
        let (start, end) = keys::holders_after(id, None);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, _)| AccountId(u64::from_be_bytes(k[9..17].try_into().expect("holder key"))))
            .collect()
    }
    /// Scheduled lifecycle events (up to `limit`), in the order they will run.
    pub fn schedule(&self, limit: usize) -> Vec<(Timestamp, Scheduled)> {
        let (start, end) = keys::table(schema::tag::SCHEDULE);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, _)| Scheduled::from_key(&k))
            .collect()
    }
    /// A note or bond's principal component, if it is eligible for STRIPS.
    pub fn strips(&self, id: InstrumentId) -> Option<InstrumentId> {
        self.read(&keys::strips(id))
    }
    /// An issuer's interest component for a payment date.
    pub fn interest_component(
        &self,
        issuer: &Lei,
        date: tally_types::Date,
    ) -> Option<InstrumentId> {
        self.read(&keys::interest_component(issuer, date))
    }
    /// A repo.
    pub fn repo(&self, id: tally_types::RepoId) -> Option<crate::schema::RepoRecord> {
        self.read(&keys::repo(id))
    }
    /// A fund's NAV for a date, in millionths of the currency per whole share.
    pub fn nav(&self, fund: InstrumentId, date: tally_types::Date) -> Option<u64> {
        self.read(&keys::nav(fund, date))
    }
    /// Auctions (up to `limit`), by id.
    pub fn auctions(&self, limit: usize) -> Vec<(AuctionId, AuctionRecord)> {
        let (start, end) = keys::table(schema::tag::AUCTION);
        self.0
            .scan(&start, &end, limit)
            .into_iter()
            .map(|(k, v)| {
                let id = u64::from_be_bytes(k[1..9].try_into().expect("auction key"));
                (AuctionId(id), schema::decode(&v))
            })
            .collect()
    }
}
